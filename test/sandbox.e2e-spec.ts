import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { customerNamed } from 'src/sandbox/customers';
import { startSandbox, type Sandbox } from 'src/sandbox/sandbox';
import { applyTestEnv, TEST_SECRETS, uniquePrefix } from 'test/utils/app';

const CHROMIUM = '/usr/bin/chromium';

describe('sandbox (e2e)', () => {
  let sandbox: Sandbox;

  beforeAll(async () => {
    // The run's own database and Redis prefix; everything else is the sandbox's.
    applyTestEnv({
      PORT: '0',
      AI_DEBOUNCE_MS: '300',
      META_APP_SECRET: undefined,
      IG_VERIFY_TOKEN: undefined,
      ENCRYPTION_KEY: undefined,
      JWT_SECRET: undefined,
      GRAPH_API_BASE_URL: undefined,
      INSTAGRAM_API_BASE_URL: undefined,
      MANYCHAT_BASE_URL: undefined,
      OPENAI_BASE_URL: undefined,
    });
    sandbox = await startSandbox();
  });
  afterAll(() => sandbox.close());

  it('seeds the demo shop with its Arabic profile and catalogue', async () => {
    const [shop] = await sandbox.dataSource.query<
      Array<{ profile: { displayName: string }; products: string }>
    >(
      `SELECT m.profile, (SELECT count(*) FROM products p WHERE p.merchant_id = m.id) AS products FROM merchants m WHERE m.id = $1`,
      [sandbox.merchantId],
    );
    expect(shop.profile.displayName).toBe('بيت الأناقة');
    expect(Number(shop.products)).toBe(20);
  });

  it('answers a customer through the simulated Instagram, with the pipeline timeline', async () => {
    const customer = customerNamed(`زبون-${Date.now()}`);
    const sent = await sandbox.customers.act(customer, {
      kind: 'text',
      text: 'شكد سعر الفستان الاسود الطويل؟',
    });
    const reply = await sandbox.customers.reply(customer, sent, 20_000);
    expect(reply).not.toBeNull();
    expect(reply?.parts[0].text).toContain('65,000');
    expect(reply?.parts.some((part) => part.imageUrl?.endsWith('/sandbox/images/DR-001.svg'))).toBe(
      true,
    );
    expect(reply?.timeline).toMatchObject({ source: 'model', intent: 'price_inquiry' });
    expect(reply?.timeline.stored).toBeGreaterThanOrEqual(0);
    expect(reply?.timeline.sent).toBeGreaterThan(reply?.timeline.ai ?? Infinity);
  });

  describe('the web page, in a real browser', () => {
    let browser: Browser;
    beforeAll(async () => {
      if (!existsSync(CHROMIUM)) {
        throw new Error(`${CHROMIUM} is missing: apt-get install chromium`);
      }
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--disable-component-update',
          '--no-first-run',
          '--disable-sync',
        ],
      });
    });
    afterAll(() => browser?.close());

    it('sends a message as the customer and shows the bot’s reply', async () => {
      const page = await browser.newPage();
      await page.goto(`${sandbox.url}/sandbox`);
      await page.fill('#name', 'مريم');
      await page.fill('#text', 'عدكم حذاء رياضي ابيض؟');
      await page.click('form button');
      const reply = page.locator('.msg.out').first();
      await reply.waitFor({ timeout: 15_000 });
      expect(await reply.textContent()).toContain('45,000');
      expect(await page.locator('.msg.in').first().textContent()).toBe('عدكم حذاء رياضي ابيض؟');
      await page.screenshot({ path: '.bench/sandbox-page.png' }).catch(() => undefined);
    });
  });
});

describe('the sandbox and production commands (e2e, built)', () => {
  const root = join(__dirname, '..');
  const run = (args: string[], env: NodeJS.ProcessEnv) =>
    new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn(process.execPath, args, {
        cwd: root,
        env: { PATH: process.env.PATH, ...env },
      });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.on('exit', (code) => resolve({ code, output }));
    });

  beforeAll(() => {
    execFileSync(process.execPath, [join(root, 'scripts', 'ensure-build.js')], { stdio: 'ignore' });
  });

  it('`npm run sandbox -- --say` prints the grounded reply with its timeline, and exits 0', async () => {
    const { code, output } = await run(
      ['dist/sandbox/main.js', '--say', 'بيش الجاكيت الجلد الاسود؟', '--customer', 'حسين'],
      {
        DATABASE_URL: process.env.DATABASE_URL,
        REDIS_URL: process.env.REDIS_URL,
        REDIS_PREFIX: uniquePrefix(),
        PORT: '0',
        AI_DEBOUNCE_MS: '200',
      },
    );
    expect(code).toBe(0);
    expect(output).toContain('حسين > بيش الجاكيت الجلد الاسود؟');
    expect(output).toContain('85,000 دينار');
    expect(output).toMatch(
      /received 0 ms → stored \d+ ms → AI \d+ ms \(model, price_inquiry\) → sent \d+ ms/,
    );
  }, 60_000);

  it('a production start refuses the sandbox secrets', async () => {
    const { code, output } = await run(['dist/main.js'], {
      ...TEST_SECRETS,
      META_APP_SECRET: 'radd-sandbox-meta-app-secret',
      DATABASE_URL: process.env.DATABASE_URL,
    });
    expect(code).toBe(1);
    expect(output).toContain('META_APP_SECRET holds its public sandbox value');
  }, 30_000);
});
