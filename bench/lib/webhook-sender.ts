import { Agent, request } from 'node:http';
import { sleep } from 'bench/lib/util';

/** One webhook delivery: its body and headers, and the id it is tracked by (e.g. the mid). */
export interface Delivery {
  id: string;
  body: Buffer;
  headers: Record<string, string>;
}

/** What became of one delivery, over all its attempts. */
export interface DeliveryRecord {
  id: string;
  /** Epoch ms of the first attempt. */
  firstSentAt: number;
  attempts: number;
  /** Epoch ms of the 2xx answer; undefined while unacknowledged. */
  ackedAt?: number;
  /** Status code or error code of each failed attempt, in order (at most 10 kept). */
  failures: string[];
  /** Redelivery stopped before a 2xx (the bound was reached). */
  gaveUp: boolean;
}

export interface RedeliveryPolicy {
  /** First wait after a failed attempt; doubled each time up to `maxDelayMs`, with jitter. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** No attempt is started later than this after the first one. */
  giveUpAfterMs: number;
}

/** Meta's behaviour, compressed in time: retry at once-ish, then back off, for a bounded time. */
export const META_REDELIVERY: RedeliveryPolicy = {
  baseDelayMs: 500,
  maxDelayMs: 5_000,
  giveUpAfterMs: 180_000,
};

export interface SenderOptions {
  /** Origin of the receiver, e.g. http://127.0.0.1:3000 */
  origin: string;
  path: string;
  /** An attempt without an answer within this is a failure (Meta allows 5-20 s). */
  timeoutMs: number;
  /** null: one attempt per delivery, whatever its answer. */
  redelivery: RedeliveryPolicy | null;
  /** Concurrent connections at most; more requests wait for a free one. */
  maxSockets: number;
}

/**
 * Posts webhooks as Meta does: each delivery is tracked by id, anything not answered 2xx is sent
 * again (with backoff, up to a bound) until acknowledged. Requests are fired as they come (an open
 * model: a slow receiver does not slow the sender down), over keep-alive connections.
 */
export class WebhookSender {
  readonly records = new Map<string, DeliveryRecord>();
  private readonly agent: Agent;
  private inFlight = 0;
  private waiting = 0;
  private closed = false;

  constructor(private readonly options: SenderOptions) {
    this.agent = new Agent({ keepAlive: true, maxSockets: options.maxSockets });
  }

  /** Sends a delivery (and its redeliveries) in the background. */
  send(delivery: Delivery): void {
    const record: DeliveryRecord = {
      id: delivery.id,
      firstSentAt: Date.now(),
      attempts: 0,
      failures: [],
      gaveUp: false,
    };
    this.records.set(delivery.id, record);
    void this.attempt(delivery, record);
  }

  /** Attempts under way or waiting for their redelivery time. */
  get pending(): number {
    return this.inFlight + this.waiting;
  }

  get acknowledged(): number {
    let count = 0;
    for (const record of this.records.values()) if (record.ackedAt !== undefined) count += 1;
    return count;
  }

  /** Waits until nothing is in flight or waiting; false when `timeoutMs` passed first. */
  async settled(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.pending > 0) {
      if (Date.now() > deadline) return false;
      await sleep(50);
    }
    return true;
  }

  /** Stops redelivering and closes the connections. */
  close(): void {
    this.closed = true;
    this.agent.destroy();
  }

  private async attempt(delivery: Delivery, record: DeliveryRecord): Promise<void> {
    const policy = this.options.redelivery;
    for (;;) {
      record.attempts += 1;
      this.inFlight += 1;
      const outcome = await this.post(delivery).finally(() => {
        this.inFlight -= 1;
      });
      if (outcome === 'ok') {
        record.ackedAt = Date.now();
        return;
      }
      if (record.failures.length < 10) record.failures.push(outcome);
      if (!policy || this.closed) {
        record.gaveUp = true;
        return;
      }
      const delay = Math.min(
        policy.maxDelayMs,
        policy.baseDelayMs * 2 ** Math.min(10, record.attempts - 1),
      );
      const wait = delay * (0.75 + Math.random() * 0.5);
      if (Date.now() + wait - record.firstSentAt > policy.giveUpAfterMs) {
        record.gaveUp = true;
        return;
      }
      this.waiting += 1;
      await sleep(wait);
      this.waiting -= 1;
      if (this.closed) {
        record.gaveUp = true;
        return;
      }
    }
  }

  /** One POST: 'ok' for 2xx, else the status code or the error's code. */
  private post(delivery: Delivery): Promise<string> {
    const url = new URL(this.options.path, this.options.origin);
    return new Promise((resolve) => {
      let done = false;
      const finish = (outcome: string) => {
        if (done) return;
        done = true;
        resolve(outcome);
      };
      const req = request(
        url,
        {
          method: 'POST',
          agent: this.agent,
          headers: { ...delivery.headers, 'content-length': String(delivery.body.length) },
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            finish(status >= 200 && status < 300 ? 'ok' : String(status));
          });
          res.on('error', () => finish('response-error'));
        },
      );
      req.setTimeout(this.options.timeoutMs, () => {
        req.destroy(new Error('timeout'));
        finish('timeout');
      });
      req.on('error', (error: NodeJS.ErrnoException) => finish(error.code ?? error.message));
      req.end(delivery.body);
    });
  }
}

/**
 * Calls `send(i)` for i = 0…count-1 at a fixed arrival rate (an open model: the schedule does not
 * wait for answers). Resolves once the last one is started, or when `stop()` returns true.
 */
export async function atFixedRate(
  ratePerSec: number,
  count: number,
  send: (index: number) => void,
  stop: () => boolean = () => false,
): Promise<void> {
  const started = performance.now();
  let sent = 0;
  while (sent < count && !stop()) {
    const due = Math.min(
      count,
      Math.floor(((performance.now() - started) / 1000) * ratePerSec) + 1,
    );
    while (sent < due) send(sent++);
    const next = started + (sent / ratePerSec) * 1000;
    await sleep(Math.max(1, Math.min(20, next - performance.now())));
  }
}
