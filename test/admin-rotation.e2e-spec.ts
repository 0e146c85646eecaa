import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { TokenService } from 'src/auth/token.service';
import { rotateKeys } from 'src/cli/cli';
import { readEnvironment } from 'src/config/env';
import { securitySettings } from 'src/config/security.config';
import { runMigrations } from 'src/database/migrate';
import { typeOrmOptions } from 'src/database/typeorm-options';
import { CredentialCipher, keyId } from 'src/merchant/credential-cipher';
import { CredentialRotationError, CREDENTIAL_COLUMNS } from 'src/merchant/credential-rotation';
import { credentialContext } from 'src/merchant/merchant-directory';
import { startApp, TEST_SECRETS } from 'test/utils/app';
import { adminToken, call } from 'test/utils/api';
import { accountId } from 'test/utils/instagram';

type Json = Record<string, unknown>;
type Stored = Record<string, string | null>;
const canary = (what: string) => `${what}-canary-${randomBytes(8).toString('hex')}`;
const newKey = () => randomBytes(32).toString('hex');

/** A database of this file's own: rotation touches every merchant, so no other file's rows. */
function ownDatabaseUrl(): string {
  const url = new URL(process.env.DATABASE_URL ?? '');
  url.pathname = `/radd_rotation_${randomBytes(4).toString('hex')}`;
  return url.toString();
}

describe('credential key rotation (e2e)', () => {
  const url = ownDatabaseUrl();
  const keys = { first: TEST_SECRETS.ENCRYPTION_KEY, second: newKey(), third: newKey() };
  const env = (overrides: Record<string, string | undefined>) =>
    readEnvironment({ ...process.env, DATABASE_URL: url, ...overrides }, { requireSecrets: false });
  /** What each merchant was given, by id. */
  const given = new Map<string, Partial<Record<keyof typeof CREDENTIAL_COLUMNS, string>>>();
  let db: DataSource;

  beforeAll(async () => {
    await runMigrations({ url, poolSize: 1 });
    db = new DataSource(typeOrmOptions({ url, poolSize: 2 }));
    await db.initialize();
    const radd = await startApp({ DATABASE_URL: url });
    try {
      for (const credentials of [
        { instagramAccessToken: canary('IGAA'), manychatApiKey: canary('mc') },
        { instagramAccessToken: canary('IGAA') },
        undefined,
      ]) {
        const res = await call<Json>(radd.url, 'POST', '/api/merchants', {
          token: adminToken(radd.app),
          body: {
            name: 'rotation',
            instagramAccountId: accountId(),
            deliveryChannel: 'manychat',
            credentials,
          },
        });
        expect(res.status).toBe(201);
        given.set(res.body.id as string, {
          ...credentials,
          inboundSecret: res.body.inboundSecret as string,
        });
      }
    } finally {
      await radd.close();
    }
  }, 60_000);

  afterAll(async () => {
    await db?.destroy();
    const admin = new URL(url);
    const name = admin.pathname.slice(1);
    admin.pathname = '/postgres';
    const client = new Client({ connectionString: admin.toString() });
    await client.connect();
    await client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(name)} WITH (FORCE)`);
    await client.end();
  });

  const stored = () =>
    db.query<Stored[]>(
      `SELECT id, instagram_access_token, manychat_api_key, inbound_secret FROM merchants ORDER BY id`,
    );

  /** Every stored credential opens with `key` alone and equals what was given. */
  async function expectAllUnder(key: string): Promise<void> {
    const only = new CredentialCipher(securitySettings(env({ ENCRYPTION_KEY: key })));
    let opened = 0;
    for (const row of await stored()) {
      const id = row.id as string;
      for (const [field, column] of Object.entries(CREDENTIAL_COLUMNS) as Array<
        [keyof typeof CREDENTIAL_COLUMNS, string]
      >) {
        const sealed = row[column];
        expect(sealed === null).toBe(given.get(id)?.[field] === undefined);
        if (sealed === null) continue;
        expect(sealed.split('.')[1]).toBe(keyId(Buffer.from(key, 'hex')));
        expect(only.decrypt(sealed, credentialContext(id, field))).toBe(given.get(id)?.[field]);
        opened += 1;
      }
    }
    expect(opened).toBe(6);
  }

  it('refuses, changing nothing, when a credential is under a key it does not have', async () => {
    const stranger = new CredentialCipher(securitySettings(env({ ENCRYPTION_KEY: newKey() })));
    const [row] = await db.query<Array<{ id: string }>>(
      `INSERT INTO merchants (name, instagram_account_id, delivery_channel) VALUES ('stranger', $1, 'instagram') RETURNING id`,
      [accountId()],
    );
    try {
      await db.query(`UPDATE merchants SET manychat_api_key = $2 WHERE id = $1`, [
        row.id,
        stranger.encrypt('lost', credentialContext(row.id, 'manychatApiKey')),
      ]);
      const before = await stored();
      const rotation = rotateKeys(
        env({ ENCRYPTION_KEY: keys.second, ENCRYPTION_KEY_PREVIOUS: keys.first }),
      );
      await expect(rotation).rejects.toThrow(CredentialRotationError);
      await expect(rotation).rejects.toThrow(/nothing was changed/);
      expect(await stored()).toEqual(before);
    } finally {
      await db.query(`DELETE FROM merchants WHERE id = $1`, [row.id]);
    }
  });

  it('re-encrypts every credential so that the new key alone opens them', async () => {
    const report = await rotateKeys(
      env({ ENCRYPTION_KEY: keys.second, ENCRYPTION_KEY_PREVIOUS: keys.first }),
    );
    expect(report).toEqual({
      merchants: 3,
      reencrypted: { instagramAccessToken: 2, manychatApiKey: 1, inboundSecret: 3 },
      alreadyCurrent: 0,
    });
    await expectAllUnder(keys.second);

    const again = await rotateKeys(
      env({ ENCRYPTION_KEY: keys.second, ENCRYPTION_KEY_PREVIOUS: keys.first }),
    );
    expect(again).toEqual({
      merchants: 3,
      reencrypted: { instagramAccessToken: 0, manychatApiKey: 0, inboundSecret: 0 },
      alreadyCurrent: 6,
    });

    // The app with the new key alone: the webhook reader and the API open the rotated values.
    const radd = await startApp({
      DATABASE_URL: url,
      ENCRYPTION_KEY: keys.second,
      ENCRYPTION_KEY_PREVIOUS: undefined,
    });
    try {
      const [id, secrets] = [...given.entries()][0];
      const res = await fetch(`${radd.url}/webhooks/manychat/${id}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-radd-secret': secrets.inboundSecret ?? '',
        },
        body: JSON.stringify({ subscriber_id: '1', text: 'hi' }),
      });
      expect(res.status).toBe(202);
      const shown = await call<Json>(radd.url, 'GET', `/api/merchants/${id}`, {
        token: adminToken(radd.app),
      });
      expect(shown.body).toMatchObject({ hasInstagramAccessToken: true, hasManychatApiKey: true });
    } finally {
      await radd.close();
    }
  }, 60_000);

  describe('npm run cli (built)', () => {
    const root = join(__dirname, '..');
    const run = (args: string[], cliEnv: Record<string, string | undefined>) =>
      spawnSync(process.execPath, [join(root, 'dist', 'cli', 'main.js'), ...args], {
        cwd: root,
        env: { PATH: process.env.PATH, ...cliEnv },
        encoding: 'utf8',
      });

    beforeAll(() => {
      execFileSync(process.execPath, [join(root, 'scripts', 'ensure-build.js')], {
        stdio: 'ignore',
      });
    }, 180_000);

    it('prints the token alone, as `npm run cli -- token` (INTERFACE §1) is run', () => {
      const res = spawnSync('npm', ['run', 'cli', '--', 'token', '--role', 'admin'], {
        cwd: root,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, JWT_SECRET: 'short-secret' },
        encoding: 'utf8',
      });
      expect(res.status).toBe(0);
      const printed = res.stdout.trim();
      expect(printed).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
      const claims = JSON.parse(Buffer.from(printed.split('.')[1], 'base64url').toString()) as {
        role: string;
      };
      expect(claims.role).toBe('admin');
    });

    it('rotate-keys re-encrypts and prints the counts', async () => {
      const res = run(['rotate-keys'], {
        DATABASE_URL: url,
        ENCRYPTION_KEY: keys.third,
        ENCRYPTION_KEY_PREVIOUS: keys.second,
      });
      expect(res.stderr).toBe('');
      expect(res.status).toBe(0);
      expect(res.stdout).toBe(
        [
          'merchants with credentials: 3',
          're-encrypted with the current key: instagramAccessToken 2, manychatApiKey 1, inboundSecret 3',
          'already under the current key: 0',
          '',
        ].join('\n'),
      );
      await expectAllUnder(keys.third);
    });

    it('prints tokens the API accepts, and refuses wrong arguments with the usage', () => {
      const cliEnv = { JWT_SECRET: TEST_SECRETS.JWT_SECRET };
      const tokens = new TokenService({ jwtSecret: TEST_SECRETS.JWT_SECRET });
      const admin = run(['token', '--role', 'admin'], cliEnv);
      expect(admin.status).toBe(0);
      expect(tokens.verify(admin.stdout.trim())).toEqual({ sub: 'cli-admin', role: 'admin' });
      const id = [...given.keys()][0];
      const merchant = run(
        ['token', '--role', 'merchant', '--merchant', id, '--ttl', '60'],
        cliEnv,
      );
      expect(tokens.verify(merchant.stdout.trim())).toEqual({
        sub: 'cli-merchant',
        role: 'merchant',
        merchantId: id,
      });
      const wrong = run(['token', '--role', 'merchant'], cliEnv);
      expect(wrong.status).toBe(2);
      expect(wrong.stderr).toMatch(/--merchant/);
      expect(wrong.stderr).toMatch(/Usage/);
      const noSecret = run(['token', '--role', 'admin'], {});
      expect(noSecret.status).toBe(2);
      expect(noSecret.stderr).toMatch(/JWT_SECRET/);
    });
  });
});
