import { plainToInstance, Transform } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  getMetadataStorage,
  validateSync,
  type ValidationError,
} from 'class-validator';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

export const APP_ROLES = ['api', 'worker', 'all'] as const;
export type AppRole = (typeof APP_ROLES)[number];

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Settings without which Radd must not start (INTERFACE §2); the sandbox supplies its own. */
export const REQUIRED_SETTINGS = [
  'META_APP_SECRET',
  'IG_VERIFY_TOKEN',
  'ENCRYPTION_KEY',
  'JWT_SECRET',
] as const;

/** Settings that guard something: the required ones, and the keys and passwords besides. */
const SECRET_SETTINGS = [
  ...REQUIRED_SETTINGS,
  'ENCRYPTION_KEY_PREVIOUS',
  'IG_APP_SECRET',
  'BULL_BOARD_PASSWORD',
] as const;

/** The examples' stand-in for a secret (`CHANGE_ME…` in deploy/kubernetes/secret.example.yaml). */
function isPlaceholder(value: string): boolean {
  return /^change[_-]?me/i.test(value);
}

const HEX_32_BYTES = /^[0-9a-fA-F]{64}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Decodes an AES-256 key given as 64 hex characters or base64 of 32 bytes; null when neither. */
export function decodeKey(value: string): Buffer | null {
  if (HEX_32_BYTES.test(value)) return Buffer.from(value, 'hex');
  if (BASE64.test(value) && value.length % 4 === 0) {
    const bytes = Buffer.from(value, 'base64');
    if (bytes.length === 32) return bytes;
  }
  return null;
}

const trimUrl = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' ? value.replace(/\/+$/, '') : value;

/**
 * Every setting of INTERFACE §2, with its default. Property initialisers are the defaults:
 * a variable that is unset (or empty) keeps them.
 */
export class Environment {
  @IsInt() @Min(0) @Max(65535) PORT = 3000;
  @IsString() HOST = '0.0.0.0';
  @IsIn(APP_ROLES) APP_ROLE: AppRole = 'all';
  @IsInt() @Min(0) @Max(65535) WORKER_HEALTH_PORT = 3001;
  @IsIn(LOG_LEVELS) LOG_LEVEL: LogLevel = 'info';

  @Matches(/^postgres(ql)?:\/\/.+/, { message: 'DATABASE_URL must be a postgres:// URL' })
  DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/radd';
  @IsInt() @Min(1) @Max(200) DATABASE_POOL_SIZE = 20;

  @Matches(/^rediss?:\/\/.+/, { message: 'REDIS_URL must be a redis:// or rediss:// URL' })
  REDIS_URL = 'redis://127.0.0.1:6379';
  @Matches(/^[A-Za-z0-9_.:-]+$/, { message: 'REDIS_PREFIX may hold letters, digits and _.:- only' })
  REDIS_PREFIX = 'radd';

  @IsOptional() @IsString() META_APP_SECRET?: string;
  @IsOptional() @IsString() IG_APP_SECRET?: string;
  @IsOptional() @IsString() IG_APP_ID?: string;
  @IsOptional() @IsString() IG_VERIFY_TOKEN?: string;
  @Transform(trimUrl)
  @Matches(/^https?:\/\/.+/, { message: 'GRAPH_API_BASE_URL must be an http(s) URL' })
  GRAPH_API_BASE_URL = 'https://graph.facebook.com';
  @Transform(trimUrl)
  @Matches(/^https?:\/\/.+/, { message: 'INSTAGRAM_API_BASE_URL must be an http(s) URL' })
  INSTAGRAM_API_BASE_URL = 'https://graph.instagram.com';
  @Matches(/^v\d+\.\d+$/, { message: 'GRAPH_API_VERSION must look like v25.0' })
  GRAPH_API_VERSION = 'v25.0';

  @IsOptional() @IsString() OPENAI_API_KEY?: string;
  @IsOptional()
  @Transform(trimUrl)
  @Matches(/^https?:\/\/.+/, { message: 'OPENAI_BASE_URL must be an http(s) URL' })
  OPENAI_BASE_URL?: string;
  @IsString() OPENAI_MODEL = 'gpt-4o-mini';

  @Transform(trimUrl)
  @Matches(/^https?:\/\/.+/, { message: 'MANYCHAT_BASE_URL must be an http(s) URL' })
  MANYCHAT_BASE_URL = 'https://api.manychat.com';
  @IsOptional() @IsString() MANYCHAT_API_KEY?: string;

  @IsOptional() @IsString() ENCRYPTION_KEY?: string;
  @IsOptional() @IsString() ENCRYPTION_KEY_PREVIOUS?: string;
  // Any non-empty key (INTERFACE §2 sets no length); .env.example asks for a long random one.
  @IsOptional() @IsString() JWT_SECRET?: string;

  @IsInt() @Min(0) @Max(600_000) AI_DEBOUNCE_MS = 3000;
  @IsInt() @Min(100) @Max(120_000) AI_TIMEOUT_MS = 15000;
  @IsInt() @Min(0) @Max(525_600) BOT_PAUSE_ON_HUMAN_MINUTES = 60;
  @IsInt() @Min(1) @Max(1000) SEND_RATE_PER_MERCHANT = 80;
  @IsInt() @Min(1) @Max(500) DELIVERY_CONCURRENCY = 20;
  @IsInt() @Min(1) @Max(1000) AI_CONCURRENCY = 100;
  /** Model tokens a merchant may use in a day (UTC); 0: no cap. */
  @IsInt() @Min(0) @Max(1_000_000_000) AI_DAILY_TOKENS_PER_MERCHANT = 0;
  @IsInt() @Min(100) @Max(3_600_000) OUTBOX_SWEEP_MS = 15000;
  /** Jobs the process-webhook queue holds at most; further events wait in PostgreSQL. */
  @IsInt() @Min(1) @Max(10_000_000) WEBHOOK_QUEUE_LIMIT = 100_000;
  @IsInt() @Min(1) @Max(3650) WEBHOOK_RETENTION_DAYS = 30;
  @IsInt() @Min(1) @Max(10_080) CLEANUP_INTERVAL_MINUTES = 60;
  @IsInt() @Min(1) @Max(1_000_000) API_RATE_LIMIT_PER_MINUTE = 600;

  @IsOptional() @IsString() BULL_BOARD_USER?: string;
  @IsOptional() @IsString() BULL_BOARD_PASSWORD?: string;
}

/** Start-up refused: names every missing or invalid setting, never a value. */
export class ConfigValidationError extends Error {
  constructor(
    readonly missing: string[],
    readonly invalid: string[],
  ) {
    const parts: string[] = [];
    if (missing.length > 0) parts.push(`missing required settings: ${missing.join(', ')}`);
    if (invalid.length > 0) parts.push(`invalid settings: ${invalid.join('; ')}`);
    super(`Radd cannot start: ${parts.join('; ')}. See .env.example.`);
    this.name = 'ConfigValidationError';
  }
}

/** Name of every setting Radd reads. */
export const SETTINGS = [
  ...new Set(
    getMetadataStorage()
      .getTargetValidationMetadatas(Environment, '', true, false)
      .map((meta) => meta.propertyName),
  ),
];
const DEFAULTS = new Environment();
const NUMERIC = new Set(
  SETTINGS.filter((key) => typeof DEFAULTS[key as keyof Environment] === 'number'),
);

let dotEnvLoaded = false;

/** Reads `.env` from the working directory once; variables already set win. */
function loadDotEnv(): void {
  if (dotEnvLoaded) return;
  dotEnvLoaded = true;
  const file = resolve(process.cwd(), '.env');
  if (existsSync(file)) process.loadEnvFile(file);
}

function describe(errors: ValidationError[]): string[] {
  return errors.flatMap((error) => Object.values(error.constraints ?? {}));
}

/**
 * Parses and validates the environment. The one place in Radd that reads `process.env`.
 * Throws ConfigValidationError naming everything that is missing or wrong. Tools that need no
 * secret (the migration runner) pass `requireSecrets: false`.
 */
export function readEnvironment(
  source: NodeJS.ProcessEnv = process.env,
  { requireSecrets = true }: { requireSecrets?: boolean } = {},
): Environment {
  if (source === process.env) loadDotEnv();
  const plain: Record<string, string | number> = {};
  for (const key of SETTINGS) {
    const raw = source[key]?.trim();
    if (raw === undefined || raw === '') continue;
    plain[key] = NUMERIC.has(key) && /^-?\d+$/.test(raw) ? Number(raw) : raw;
  }
  const env = plainToInstance(Environment, plain);
  const missing = requireSecrets ? REQUIRED_SETTINGS.filter((key) => env[key] === undefined) : [];
  const invalid = describe(validateSync(env));
  for (const key of ['ENCRYPTION_KEY', 'ENCRYPTION_KEY_PREVIOUS'] as const) {
    const value = env[key];
    if (value !== undefined && decodeKey(value) === null && !isPlaceholder(value)) {
      invalid.push(`${key} must be 64 hex characters or base64 of 32 bytes`);
    }
  }
  for (const key of SECRET_SETTINGS) {
    const value = env[key];
    if (value !== undefined && isPlaceholder(value)) {
      invalid.push(`${key} still holds the example's placeholder; set a secret of your own`);
    }
  }
  if (missing.length > 0 || invalid.length > 0) throw new ConfigValidationError(missing, invalid);
  return env;
}
