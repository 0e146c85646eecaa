import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { DataSource } from 'typeorm';
import { createApp, listen } from 'src/bootstrap';
import { databaseSettings } from 'src/config/database.config';
import { readEnvironment } from 'src/config/env';
import { runMigrations } from 'src/database/migrate';
import { CredentialCipher } from 'src/merchant/credential-cipher';
import { runChat, sayAndShow } from 'src/sandbox/chat';
import { customerNamed, SandboxCustomers } from 'src/sandbox/customers';
import { DEMO_ACCOUNT_ID, seedDemoShop } from 'src/sandbox/demo-shop';
import { InstagramSimulator, startManyChatSimulator } from 'src/sandbox/instagram-simulator';
import { registerSandboxPage, type PageDeps } from 'src/sandbox/page';
import { SANDBOX_SETTINGS } from 'src/sandbox/settings';

const HELP_POSTGRES =
  'PostgreSQL is not answering on 127.0.0.1:5432. Start it with:\n' +
  '  pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start';
const HELP_REDIS =
  'Redis is not answering on 127.0.0.1:6379. Start it with:\n' +
  '  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no';

function print(text = ''): void {
  process.stdout.write(`${text}\n`);
}

/**
 * `npm run sandbox`: Radd (API and workers) on this machine with simulated Instagram and ManyChat
 * on loopback, a demo shop, a terminal chat and a web page. The same code paths as production:
 * only the outside APIs are played locally.
 */
async function main(): Promise<void> {
  const { values: args } = parseArgs({
    options: {
      say: { type: 'string' },
      customer: { type: 'string' },
      'no-chat': { type: 'boolean' },
    },
    allowPositionals: false,
  });
  const names = new Map<string, string>();
  const instagram = await InstagramSimulator.start({
    accountId: DEMO_ACCOUNT_ID,
    appSecret: SANDBOX_SETTINGS.META_APP_SECRET,
    profiles: (igsid) => {
      const name = names.get(igsid) ?? 'زبون';
      return { name, username: name };
    },
  });
  const manychat = await startManyChatSimulator();
  for (const [key, value] of Object.entries({
    ...SANDBOX_SETTINGS,
    GRAPH_API_BASE_URL: instagram.url,
    INSTAGRAM_API_BASE_URL: instagram.url,
    MANYCHAT_BASE_URL: manychat.url,
  })) {
    process.env[key] ??= value;
  }
  // The simulators answer for the real hosts only while the sandbox runs.
  process.env.GRAPH_API_BASE_URL = instagram.url;
  process.env.INSTAGRAM_API_BASE_URL = instagram.url;
  process.env.MANYCHAT_BASE_URL = manychat.url;
  const env = readEnvironment();

  try {
    await runMigrations(databaseSettings(env));
  } catch (error) {
    throw new Error(`${HELP_POSTGRES}\n(${(error as Error).message})`);
  }

  const app = await createApp();
  const dataSource = app.get(DataSource);
  let page: PageDeps | null = null;
  registerSandboxPage(app.getHttpAdapter().getInstance(), () => page);
  const url = (await listen(app)).replace('0.0.0.0', '127.0.0.1').replace('[::1]', '127.0.0.1');
  const ready = await fetch(`${url}/health/ready`);
  if (!ready.ok) throw new Error(HELP_REDIS);

  const merchantId = await seedDemoShop(
    dataSource,
    app.get(CredentialCipher),
    `${url}/sandbox/images`,
  );
  instagram.webhookUrl = `${url}/webhooks/instagram`;
  const customers = new SandboxCustomers(
    {
      webhookUrl: `${url}/webhooks/instagram`,
      appSecret: env.META_APP_SECRET ?? '',
      accountId: DEMO_ACCOUNT_ID,
    },
    instagram,
    dataSource,
    names,
  );
  page = { dataSource, customers, merchantId };
  const shutdown = async () => {
    await app.close();
    await instagram.close();
    await manychat.close();
  };

  if (args.say !== undefined) {
    const customer = customerNamed(args.customer ?? `زبون-${Date.now().toString(36)}`);
    print(`${customer.name} > ${args.say}`);
    const answered = await sayAndShow(customers, customer, { kind: 'text', text: args.say });
    await shutdown();
    process.exit(answered ? 0 : 1);
  }

  print('');
  print(`Radd sandbox is running at ${url}`);
  print(`  web page:  ${url}/sandbox`);
  print(`  health:    ${url}/health`);
  print(
    `  model:     ${env.OPENAI_API_KEY ? `${env.OPENAI_MODEL} (${env.OPENAI_BASE_URL ?? 'OpenAI'})` : 'offline replier (set OPENAI_API_KEY to use a model)'}`,
  );
  print(`  demo shop: بيت الأناقة (merchant ${merchantId}), 20 products`);
  print('');

  process.once('SIGINT', () => void shutdown().then(() => process.exit(0)));
  process.once('SIGTERM', () => void shutdown().then(() => process.exit(0)));
  if (!process.stdin.isTTY || args['no-chat']) {
    print(
      'Chat from the web page, or run `npm run sandbox -- --say "شكد سعر الفستان الاسود؟"`. Ctrl+C stops.',
    );
    return;
  }
  await runChat({ customers, dataSource, merchantId });
  await shutdown();
  process.exit(0);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
