import { DataSource } from 'typeorm';
import { createApp, listen } from 'src/bootstrap';
import { databaseSettings } from 'src/config/database.config';
import { readEnvironment, type Environment } from 'src/config/env';
import { runMigrations } from 'src/database/migrate';
import { CredentialCipher } from 'src/merchant/credential-cipher';
import { SandboxCustomers } from 'src/sandbox/customers';
import { DEMO_ACCOUNT_ID, seedDemoShop } from 'src/sandbox/demo-shop';
import { InstagramSimulator, startManyChatSimulator } from 'src/sandbox/instagram-simulator';
import { SIMULATED_MODEL, startModelSimulator } from 'src/sandbox/model-simulator';
import { registerSandboxPage, type PageDeps } from 'src/sandbox/page';
import { SANDBOX_SETTINGS } from 'src/sandbox/settings';

export const HELP_POSTGRES =
  'PostgreSQL is not answering on 127.0.0.1:5432. Start it with:\n' +
  '  pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start';
export const HELP_REDIS =
  'Redis is not answering on 127.0.0.1:6379. Start it with:\n' +
  '  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no';

export interface Sandbox {
  url: string;
  env: Environment;
  merchantId: string;
  dataSource: DataSource;
  customers: SandboxCustomers;
  instagram: InstagramSimulator;
  /** The model is the sandbox's own simulator (no OPENAI_API_KEY was given). */
  simulatedModel: boolean;
  close(): Promise<void>;
}

/**
 * Radd (API and workers) with simulated Instagram, ManyChat and an OpenAI-compatible model on
 * loopback, and a seeded demo shop. Settings already in the environment win over the sandbox's
 * own; Instagram and ManyChat are always the simulators, the model is unless OPENAI_API_KEY names
 * a real one.
 */
export async function startSandbox(): Promise<Sandbox> {
  const names = new Map<string, string>();
  const instagram = await InstagramSimulator.start({
    accountId: DEMO_ACCOUNT_ID,
    profiles: (igsid) => {
      const name = names.get(igsid) ?? 'زبون';
      return { name, username: name };
    },
  });
  const manychat = await startManyChatSimulator();
  const simulatedModel = !process.env.OPENAI_API_KEY;
  const model = simulatedModel ? await startModelSimulator() : null;
  const closeSimulators = () =>
    Promise.all([instagram.close(), manychat.close(), model?.close()]).then(() => undefined);
  for (const [key, value] of Object.entries(SANDBOX_SETTINGS)) process.env[key] ??= value;
  process.env.GRAPH_API_BASE_URL = instagram.url;
  process.env.INSTAGRAM_API_BASE_URL = instagram.url;
  process.env.MANYCHAT_BASE_URL = manychat.url;
  if (model) {
    process.env.OPENAI_API_KEY = 'radd-sandbox-model-key';
    process.env.OPENAI_BASE_URL = model.baseUrl;
    process.env.OPENAI_MODEL = SIMULATED_MODEL;
  }
  const env = readEnvironment();

  try {
    await runMigrations(databaseSettings(env));
  } catch (error) {
    await closeSimulators();
    throw new Error(`${HELP_POSTGRES}\n(${(error as Error).message})`);
  }

  // The sandbox's command closes it on Ctrl+C, simulators included: Nest's own hooks would close
  // the app a second time.
  const app = await createApp({ shutdownHooks: false });
  const dataSource = app.get(DataSource);
  let page: PageDeps | null = null;
  registerSandboxPage(app.getHttpAdapter().getInstance(), () => page);
  const url = (await listen(app)).replace('0.0.0.0', '127.0.0.1').replace('[::1]', '127.0.0.1');
  const close = async () => {
    await app.close();
    await closeSimulators();
  };
  let ready = false;
  for (let attempt = 0; attempt < 10 && !ready; attempt += 1) {
    ready = (await fetch(`${url}/health/ready`)).ok;
    if (!ready) await new Promise((resolve) => setTimeout(resolve, 500));
  }
  if (!ready) {
    await close();
    throw new Error(HELP_REDIS);
  }

  const merchantId = await seedDemoShop(
    dataSource,
    app.get(CredentialCipher),
    `${url}/sandbox/images`,
  );
  const webhookUrl = `${url}/webhooks/instagram`;
  instagram.sendEchoesTo(webhookUrl, env.META_APP_SECRET ?? '');
  const customers = new SandboxCustomers(
    { webhookUrl, appSecret: env.META_APP_SECRET ?? '', accountId: DEMO_ACCOUNT_ID },
    instagram,
    dataSource,
    names,
  );
  page = { dataSource, customers, merchantId };
  return { url, env, merchantId, dataSource, customers, instagram, simulatedModel, close };
}
