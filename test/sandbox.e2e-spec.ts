import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { customerNamed } from 'src/sandbox/customers';
import { startSandbox, type Sandbox } from 'src/sandbox/sandbox';
import { applyTestEnv } from 'test/utils/app';

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
    expect(reply?.timeline).toMatchObject({ source: 'offline', intent: 'price_inquiry' });
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
