import { Inject, Injectable } from '@nestjs/common';
import { JwtService, TokenExpiredError } from '@nestjs/jwt';
import { ROLES, type Principal, type Role } from 'src/auth/principal';
import { isUuid } from 'src/common/uuid';
import { securityConfig, type SecurityConfig } from 'src/config/security.config';

const ALGORITHM = 'HS256';
/** Tokens longer than this are refused before any work (a real one is a few hundred bytes). */
const MAX_TOKEN_LENGTH = 4096;
export const DEFAULT_TOKEN_TTL_SECONDS = 3600;

/** A token that must not be accepted; the message says why without echoing it. */
export class InvalidTokenError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'InvalidTokenError';
  }
}

export interface IssueTokenInput {
  role: Role;
  sub: string;
  merchantId?: string;
  ttlSeconds?: number;
}

/**
 * HS256 JWTs of the admin API (INTERFACE §3.4): claims `sub`, `role`, `merchantId` (merchant
 * tokens only), `exp`. Only HS256 is accepted, `exp` is required and must be in the future.
 */
@Injectable()
export class TokenService {
  private readonly jwt: JwtService;
  private readonly secret: string;

  constructor(@Inject(securityConfig.KEY) config: Pick<SecurityConfig, 'jwtSecret'>) {
    this.secret = config.jwtSecret;
    this.jwt = new JwtService({ secret: config.jwtSecret });
  }

  issue({
    role,
    sub,
    merchantId,
    ttlSeconds = DEFAULT_TOKEN_TTL_SECONDS,
  }: IssueTokenInput): string {
    this.requireSecret();
    const principal = toPrincipal({ sub, role, merchantId });
    if (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0) {
      throw new InvalidTokenError('the lifetime must be a positive number of seconds');
    }
    const claims = principal.merchantId
      ? { role: principal.role, merchantId: principal.merchantId }
      : { role: principal.role };
    return this.jwt.sign(claims, {
      algorithm: ALGORITHM,
      subject: principal.sub,
      expiresIn: ttlSeconds,
    });
  }

  /** The principal of a valid token; throws InvalidTokenError otherwise. */
  verify(token: string): Principal {
    this.requireSecret();
    if (token.length > MAX_TOKEN_LENGTH) throw new InvalidTokenError('invalid token');
    let claims: unknown;
    try {
      claims = this.jwt.verify<Record<string, unknown>>(token, { algorithms: [ALGORITHM] });
    } catch (error) {
      throw new InvalidTokenError(
        error instanceof TokenExpiredError ? 'token expired' : 'invalid token',
      );
    }
    if (typeof claims !== 'object' || claims === null) throw new InvalidTokenError('invalid token');
    const { sub, role, merchantId, exp } = claims as Record<string, unknown>;
    if (typeof exp !== 'number') throw new InvalidTokenError('the token has no expiry (exp)');
    return toPrincipal({ sub, role, merchantId });
  }

  private requireSecret(): void {
    // Never accept or issue tokens under an empty key (readEnvironment requires one anyway).
    if (this.secret.length === 0) throw new InvalidTokenError('JWT_SECRET is not set');
  }
}

function toPrincipal(claims: { sub: unknown; role: unknown; merchantId: unknown }): Principal {
  const { sub, role, merchantId } = claims;
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > 200) {
    throw new InvalidTokenError('the token has no subject (sub)');
  }
  if (typeof role !== 'string' || !(ROLES as readonly string[]).includes(role)) {
    throw new InvalidTokenError('the token role must be admin or merchant');
  }
  if (role === 'admin') return { sub, role };
  if (typeof merchantId !== 'string' || !isUuid(merchantId)) {
    throw new InvalidTokenError('a merchant token needs a merchantId (UUID)');
  }
  return { sub, role: 'merchant', merchantId: merchantId.toLowerCase() };
}
