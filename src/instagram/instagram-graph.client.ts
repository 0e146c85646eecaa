import { Inject, Injectable } from '@nestjs/common';
import { metaConfig, type MetaConfig } from 'src/config/meta.config';

/** An error answer of the Graph API (`{"error": {...}}`, meta-instagram spec §5.3). */
export class GraphApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: number | undefined,
    readonly subcode: number | undefined,
    message: string,
  ) {
    super(`Graph API error ${code ?? status}${subcode ? `/${subcode}` : ''}: ${message}`);
    this.name = 'GraphApiError';
  }
}

export interface InstagramUserProfile {
  name?: string;
  username?: string;
  profilePic?: string;
}

const PROFILE_TIMEOUT_MS = 5_000;

/**
 * The Graph API as Radd uses it. Instagram-Login tokens (they start with `IG`) go to
 * INSTAGRAM_API_BASE_URL, Page tokens to GRAPH_API_BASE_URL; every URL carries GRAPH_API_VERSION.
 */
@Injectable()
export class InstagramGraphClient {
  constructor(@Inject(metaConfig.KEY) private readonly config: MetaConfig) {}

  baseUrlFor(token: string): string {
    const base = token.startsWith('IG')
      ? this.config.instagramApiBaseUrl
      : this.config.graphApiBaseUrl;
    return `${base}/${this.config.graphApiVersion}`;
  }

  /** Name, username and picture of a customer (needs the customer's consent: error 230 without). */
  async userProfile(token: string, igsid: string): Promise<InstagramUserProfile> {
    const url = new URL(`${this.baseUrlFor(token)}/${encodeURIComponent(igsid)}`);
    url.searchParams.set('fields', 'name,username,profile_pic');
    const response = await fetch(url, {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(PROFILE_TIMEOUT_MS),
    });
    const body = await readJson(response);
    throwIfError(response.status, body);
    const profile = body as { name?: unknown; username?: unknown; profile_pic?: unknown };
    return {
      name: typeof profile.name === 'string' ? profile.name : undefined,
      username: typeof profile.username === 'string' ? profile.username : undefined,
      profilePic: typeof profile.profile_pic === 'string' ? profile.profile_pic : undefined,
    };
  }
}

async function readJson(response: Response): Promise<unknown> {
  const text = await response.text();
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return { error: { message: text.slice(0, 200) || response.statusText } };
  }
}

/** Meta reports errors in the body, usually with a 400, sometimes with a 200. */
function throwIfError(status: number, body: unknown): void {
  const error = (
    body as { error?: { code?: unknown; error_subcode?: unknown; message?: unknown } } | null
  )?.error;
  if (!error && status < 400) return;
  throw new GraphApiError(
    status,
    typeof error?.code === 'number' ? error.code : undefined,
    typeof error?.error_subcode === 'number' ? error.error_subcode : undefined,
    typeof error?.message === 'string' ? error.message : `HTTP ${status}`,
  );
}
