import type { Ledger, LoadRun } from 'bench/lib/load';
import { withPostgres } from 'bench/lib/stores';
import { poll, sleep } from 'bench/lib/util';

export interface Durability {
  /** webhook_events rows. */
  rows: number;
  /** 2xx responses counted by autocannon, warm-up and measured phases together. */
  acknowledged: number;
  acknowledgedWarmup: number;
  acknowledgedMeasured: number;
  /** Acknowledged (2xx) mids with no stored row: lost messages. */
  lost: number;
  /** Rows holding a mid that is stored more than once. */
  duplicates: number;
  /** Stored although the request timed out or its connection dropped. */
  storedUnanswered: number;
  /** Stored although the answer was not 2xx. */
  storedRefused: number;
  /** Stored mids the load generator never sent (should be impossible). */
  storedUnknown: number;
  /** Sent and never answered. */
  unanswered: number;
  ok: boolean;
}

export interface Processing {
  rows: number;
  processedAtLoadEnd: number;
  processed: number;
  failed: number;
  /** Still `received` when the wait ended. */
  pending: number;
  /** Seconds after the load stopped until every row was processed or failed; null if not. */
  drainedAfterSec: number | null;
  waitedSec: number;
}

const SETTLE_TIMEOUT_MS = 10_000;

/** Rows now; waits until the count stops moving (late commits of timed-out requests). */
async function settledRowCount(url: string): Promise<number> {
  const count = async (): Promise<number> =>
    withPostgres(url, async (client) => {
      const { rows } = await client.query<{ count: number }>(
        'SELECT count(*)::int AS count FROM webhook_events',
      );
      return rows[0].count;
    });
  let last = await count();
  const settled = await poll(
    async () => {
      await sleep(300);
      const now = await count();
      const stable = now === last;
      last = now;
      return stable ? now : undefined;
    },
    { timeoutMs: SETTLE_TIMEOUT_MS, everyMs: 0 },
  );
  return settled ?? last;
}

async function storedMids(url: string): Promise<string[]> {
  return withPostgres(url, async (client) => {
    const { rows } = await client.query<{ mid: string | null }>(
      `SELECT convert_from(raw_body, 'UTF8')::jsonb #>> '{entry,0,messaging,0,message,mid}' AS mid
         FROM webhook_events`,
    );
    return rows.map((row) => row.mid ?? '');
  });
}

/**
 * Every 2xx must have its row: compares the rows of webhook_events with autocannon's 2xx count,
 * and mid by mid with what each request was answered.
 */
export async function checkDurability(
  url: string,
  load: LoadRun,
  ledger: Ledger,
): Promise<Durability> {
  const rows = await settledRowCount(url);
  const mids = await storedMids(url);
  const stored = new Set(mids);
  const countStored = (ids: Set<string>): number =>
    [...ids].reduce((sum, id) => sum + (stored.has(id) ? 1 : 0), 0);
  const acknowledgedWarmup = load.warmup?.ok ?? 0;
  const acknowledgedMeasured = load.measured.ok;
  const acknowledged = acknowledgedWarmup + acknowledgedMeasured;
  const lost = ledger.acked.size - countStored(ledger.acked);
  const duplicates = mids.length - stored.size;
  const known = (id: string): boolean =>
    ledger.acked.has(id) || ledger.refused.has(id) || ledger.unanswered.has(id);
  return {
    rows,
    acknowledged,
    acknowledgedWarmup,
    acknowledgedMeasured,
    lost,
    duplicates,
    storedUnanswered: countStored(ledger.unanswered),
    storedRefused: countStored(ledger.refused),
    storedUnknown: [...stored].filter((id) => !known(id)).length,
    unanswered: ledger.unanswered.size,
    ok: rows === acknowledged && lost === 0 && duplicates === 0,
  };
}

async function statusCounts(
  url: string,
): Promise<{ processed: number; failed: number; rows: number }> {
  return withPostgres(url, async (client) => {
    const { rows } = await client.query<{ processed: number; failed: number; rows: number }>(
      `SELECT count(*) FILTER (WHERE status = 'processed')::int AS processed,
              count(*) FILTER (WHERE status = 'failed')::int AS failed,
              count(*)::int AS rows
         FROM webhook_events`,
    );
    return rows[0];
  });
}

export async function processedCount(url: string): Promise<number> {
  return (await statusCounts(url)).processed;
}

/** Waits until the worker has processed every stored event, at most `waitMs` after `loadEnd`. */
export async function waitForProcessing(
  url: string,
  loadEnd: number,
  processedAtLoadEnd: number,
  waitMs: number,
): Promise<Processing> {
  const deadline = loadEnd + waitMs;
  let drainedAt: number | null = null;
  let counts = await statusCounts(url);
  while (Date.now() < deadline) {
    if (counts.processed + counts.failed >= counts.rows) {
      drainedAt = Date.now();
      break;
    }
    await sleep(Math.min(1_000, Math.max(0, deadline - Date.now())));
    counts = await statusCounts(url);
  }
  if (drainedAt === null && counts.processed + counts.failed >= counts.rows) drainedAt = Date.now();
  return {
    rows: counts.rows,
    processedAtLoadEnd,
    processed: counts.processed,
    failed: counts.failed,
    pending: counts.rows - counts.processed - counts.failed,
    drainedAfterSec: drainedAt === null ? null : (drainedAt - loadEnd) / 1000,
    waitedSec: (Math.min(Date.now(), deadline) - loadEnd) / 1000,
  };
}
