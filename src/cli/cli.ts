import { parseArgs } from 'node:util';
import { DataSource } from 'typeorm';
import { DEFAULT_TOKEN_TTL_SECONDS, TokenService } from 'src/auth/token.service';
import { ROLES, type Role } from 'src/auth/principal';
import { isUuid } from 'src/common/uuid';
import { databaseSettings } from 'src/config/database.config';
import { readEnvironment, type Environment } from 'src/config/env';
import { securitySettings } from 'src/config/security.config';
import { typeOrmOptions } from 'src/database/typeorm-options';
import { CredentialCipher } from 'src/merchant/credential-cipher';
import { rotateCredentials, type RotationReport } from 'src/merchant/credential-rotation';

export const USAGE = `Usage:
  npm run -s cli -- token --role admin [--sub NAME] [--ttl SECONDS]
  npm run -s cli -- token --role merchant --merchant MERCHANT_ID [--sub NAME] [--ttl SECONDS]
  npm run -s cli -- rotate-keys

token        prints a JWT for the admin API (HS256 with JWT_SECRET); --ttl defaults to ${DEFAULT_TOKEN_TTL_SECONDS}
rotate-keys  re-encrypts every stored credential with ENCRYPTION_KEY (old values are read with
             ENCRYPTION_KEY_PREVIOUS); needs DATABASE_URL`;

/** The longest token lifetime the CLI issues: one year. */
const MAX_TTL_SECONDS = 365 * 24 * 3600;

/** Wrong arguments: the message and the usage are printed, exit status 2. */
export class CliUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliUsageError';
  }
}

/** Runs one operator command; what it prints goes to `write`. Settings come from the environment. */
export async function runCli(argv: string[], write: (text: string) => void): Promise<void> {
  const [command, ...args] = argv;
  switch (command) {
    case 'token':
      write(`${issueToken(args, readEnvironment(undefined, { requireSecrets: false }))}\n`);
      return;
    case 'rotate-keys': {
      const report = await rotateKeys(readEnvironment(undefined, { requireSecrets: false }));
      write(describeRotation(report));
      return;
    }
    case undefined:
    case 'help':
    case '--help':
      write(`${USAGE}\n`);
      return;
    default:
      throw new CliUsageError(`unknown command ${JSON.stringify(command)}`);
  }
}

export function issueToken(args: string[], env: Environment): string {
  let values: { role?: string; merchant?: string; sub?: string; ttl?: string };
  try {
    ({ values } = parseArgs({
      args,
      options: {
        role: { type: 'string' },
        merchant: { type: 'string' },
        sub: { type: 'string' },
        ttl: { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new CliUsageError(error instanceof Error ? error.message : String(error));
  }
  const role = values.role;
  if (role === undefined || !(ROLES as readonly string[]).includes(role)) {
    throw new CliUsageError('--role must be admin or merchant');
  }
  const merchantId = values.merchant;
  if (role === 'merchant' && (merchantId === undefined || !isUuid(merchantId))) {
    throw new CliUsageError('a merchant token needs --merchant MERCHANT_ID (a UUID)');
  }
  if (role === 'admin' && merchantId !== undefined) {
    throw new CliUsageError('--merchant is only for --role merchant');
  }
  const ttl = values.ttl === undefined ? DEFAULT_TOKEN_TTL_SECONDS : Number(values.ttl);
  if (!Number.isInteger(ttl) || ttl <= 0 || ttl > MAX_TTL_SECONDS) {
    throw new CliUsageError(`--ttl must be a whole number of seconds, 1 to ${MAX_TTL_SECONDS}`);
  }
  if (!env.JWT_SECRET) throw new CliUsageError('JWT_SECRET must be set to sign tokens');
  return new TokenService(securitySettings(env)).issue({
    role: role as Role,
    sub: values.sub ?? `cli-${role}`,
    merchantId,
    ttlSeconds: ttl,
  });
}

/** `rotate-keys`: every credential under ENCRYPTION_KEY afterwards, or nothing changed. */
export async function rotateKeys(env: Environment): Promise<RotationReport> {
  if (!env.ENCRYPTION_KEY) throw new CliUsageError('ENCRYPTION_KEY must be set to rotate keys');
  const dataSource = new DataSource({
    ...typeOrmOptions(databaseSettings(env)),
    extra: { max: 1, application_name: 'radd-cli' },
  });
  await dataSource.initialize();
  try {
    return await rotateCredentials(dataSource, new CredentialCipher(securitySettings(env)));
  } finally {
    await dataSource.destroy();
  }
}

export function describeRotation(report: RotationReport): string {
  const { instagramAccessToken, manychatApiKey, inboundSecret } = report.reencrypted;
  return [
    `merchants with credentials: ${report.merchants}`,
    `re-encrypted with the current key: instagramAccessToken ${instagramAccessToken}, manychatApiKey ${manychatApiKey}, inboundSecret ${inboundSecret}`,
    `already under the current key: ${report.alreadyCurrent}`,
    '',
  ].join('\n');
}
