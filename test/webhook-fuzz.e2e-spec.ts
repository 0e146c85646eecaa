import fc from 'fast-check';
import { startApp, type TestApp } from 'test/utils/app';
import { createMerchant, database, eventually, postSigned } from 'test/utils/instagram';

/**
 * Whatever JSON a correctly signed request carries, the endpoint answers 200 or 400 (never 5xx),
 * and the worker processes every accepted body without failing.
 */
describe('Instagram webhook: arbitrary JSON (e2e, property-based)', () => {
  let radd: TestApp;
  let account: string;
  beforeAll(async () => {
    radd = await startApp({ AI_DEBOUNCE_MS: '60000' });
    account = (await createMerchant(radd.app)).instagramAccountId;
  });
  afterAll(() => radd.close());

  it('never answers 5xx and never fails a job', async () => {
    const accepted: string[] = [];
    const item = fc.oneof(
      fc.jsonValue(),
      fc.record({
        sender: fc.record({ id: fc.oneof(fc.string(), fc.integer()) }),
        recipient: fc.record({ id: fc.constant(account) }),
        timestamp: fc.oneof(fc.integer(), fc.string(), fc.double()),
        message: fc.jsonValue(),
      }),
    );
    const body = fc.oneof(
      fc.jsonValue().map((value) => JSON.stringify(value)),
      fc
        .record({
          items: fc.array(item, { maxLength: 5 }),
          field: fc.constantFrom('messaging', 'standby', 'changes'),
        })
        .map(({ items, field }) =>
          JSON.stringify({
            object: 'instagram',
            entry: [{ id: account, time: Date.now(), [field]: items }],
          }),
        ),
    );
    await fc.assert(
      fc.asyncProperty(body, async (raw) => {
        const res = await postSigned(radd.url, raw);
        expect([200, 400]).toContain(res.status);
        if (res.status === 200) accepted.push(raw);
      }),
      { numRuns: 80 },
    );
    expect(accepted.length).toBeGreaterThan(20);
    const statuses = await eventually(async () => {
      const rows = await database(radd.app).query<Array<{ status: string }>>(
        `SELECT status FROM webhook_events WHERE raw_body = ANY($1::bytea[])`,
        [accepted.map((raw) => Buffer.from(raw))],
      );
      return rows.length === accepted.length && rows.every((row) => row.status !== 'received')
        ? rows
        : undefined;
    }, 20_000);
    expect(statuses.every((row) => row.status === 'processed')).toBe(true);
  }, 60_000);
});
