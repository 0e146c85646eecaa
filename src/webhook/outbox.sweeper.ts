import { InjectQueue } from '@nestjs/bullmq';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Queue } from 'bullmq';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { FIRST_PAGE, pageAfter, type PageKey } from 'src/common/keyset-page';
import { CATCH_UP_RETRIES_MS, PeriodicPass } from 'src/common/periodic-pass';
import { operationsConfig, type OperationsConfig } from 'src/config/operations.config';
import type { ProcessWebhookJob } from 'src/queue/jobs';
import { retryFailedOrMissing } from 'src/queue/missing-jobs';
import { QueueName } from 'src/queue/queue.constants';
import { RedisService } from 'src/redis/redis.service';
import { ProcessWebhookProducer } from 'src/webhook/process-webhook.producer';
import { WebhookBacklog } from 'src/webhook/webhook-backlog';
import type { WebhookSource } from 'src/webhook/webhook-event.entity';

/**
 * Younger events are still being queued by the request that stored them; not so right after a
 * Redis outage, when those requests failed to (a job's id is its event's, so none is added twice).
 */
const MIN_AGE_MS = 5_000;
const BATCH = 500;
const IDLE = 0;
/** Pages a catch-up pass reads at most (events keep arriving meanwhile); later passes go on. */
const MAX_CATCH_UP_PAGES = 200;
/**
 * While events are held, how often the room the workers made is filled: the queue's limit a pass
 * at most, so a pass a second would cap the workers at the limit a second.
 */
const FEED_EVERY_MS = 100;
/** Pages a pass over held events reads at most; the next goes on. */
const MAX_FEED_PAGES = 20;
/**
 * Held events are looked for from this long before the first one held: events stored at the same
 * moment by other processes may have been held just before it.
 */
const HELD_MARGIN_MS = 2_000;
/**
 * One process at a time queues held events: each would otherwise fill the same room. A pass takes
 * milliseconds; the lock of a process that died during one lapses soon, not after a long stall.
 */
const FEED_LOCK_MS = 3_000;
const RELEASE_LOCK = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

const UNKNOWN_BACKLOG = { queued: 0, heldFrom: null };

interface StoredEvent extends PageKey {
  source: WebhookSource;
}

/**
 * The outbox: every OUTBOX_SWEEP_MS, stored webhook events that are neither processed nor failed
 * are queued again, so nothing acknowledged to Meta is lost to a Redis outage or a crash between
 * the commit and the queue add. A job that already exists is left alone, a failed one retried.
 *
 * A pass reads one page of such events, and the next pass the page after it, back to the oldest
 * after the last: behind a backlog of events still waiting for their jobs, a page that always
 * began at the oldest would never reach an event whose job was lost. Redis reachable again after
 * an outage gets a pass at once, over events of any age and every page.
 *
 * The queue holds at most WEBHOOK_QUEUE_LIMIT jobs: events past it are held (WebhookBacklog), and
 * while some are, a pass every FEED_EVERY_MS (`feed`) queues them oldest first, as many as there
 * is room for, and the periodic pass leaves them alone.
 */
@Injectable()
export class OutboxSweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(OutboxSweeper.name);
  private readonly periodic = new PeriodicPass(() => this.pass(), IDLE);
  private readonly feeding = new PeriodicPass(() => this.feedPass(), IDLE);
  private stopLooking?: () => void;
  /** The next pass takes events of any age, every page: Redis is back from an outage. */
  private catchUp = false;
  /** Where the next page starts. */
  private after = FIRST_PAGE;
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectQueue(QueueName.ProcessWebhook) private readonly queue: Queue<ProcessWebhookJob>,
    private readonly producer: ProcessWebhookProducer,
    @Inject(operationsConfig.KEY) private readonly config: OperationsConfig,
    private readonly redis: RedisService,
    private readonly backlog: WebhookBacklog,
  ) {}

  onApplicationBootstrap(): void {
    this.periodic.start(this.config.outboxSweepMs);
    this.feeding.start(FEED_EVERY_MS);
    this.stopLooking = this.redis.onReachable(() => {
      this.catchUp = true;
      this.periodic.runSoon(() => this.catchUp, CATCH_UP_RETRIES_MS);
    });
  }

  onApplicationShutdown(): void {
    this.stopLooking?.();
    this.periodic.stop();
    this.feeding.stop();
  }

  /** One pass (none while another runs); returns how many events were queued or retried. */
  sweep(): Promise<number> {
    return this.periodic.run();
  }

  /** One pass over held events (none while another runs); returns how many were queued. */
  feed(): Promise<number> {
    return this.feeding.run();
  }

  private async pass(): Promise<number> {
    const catchUp = this.catchUp;
    this.catchUp = false;
    try {
      if (catchUp) this.after = FIRST_PAGE;
      let queued = 0;
      let pages = 0;
      do {
        // Not known while the general connection is away (the queue's may be back first): the
        // sweep then goes on as if no event were held, rather than wait for it.
        const { queued: depth, heldFrom } = await this.backlog.read().catch(() => UNKNOWN_BACKLOG);
        if (heldFrom !== null) {
          // Held events are queued in their order by `feed`; a catch-up owed before them waits.
          if (catchUp && pages === 0) this.catchUp = true;
          break;
        }
        queued += await this.page(catchUp ? 0 : MIN_AGE_MS, this.backlog.limit - depth);
        pages += 1;
      } while (catchUp && this.after !== FIRST_PAGE && pages < MAX_CATCH_UP_PAGES);
      return queued;
    } catch (error) {
      // Redis may be back for one connection and not yet for the queue's: the next pass catches up.
      if (catchUp) this.catchUp = true;
      this.logger.warn({ err: error }, 'outbox sweep failed; will try again');
      return IDLE;
    }
  }

  /** Queues the jobs missing on the next page, `room` at most; holds the rest (WebhookBacklog). */
  private async page(minAgeMs: number, room: number): Promise<number> {
    const rows = await this.received(this.after, minAgeMs);
    this.after = pageAfter(rows, BATCH);
    const { missing, retried } = await retryFailedOrMissing(this.queue, rows);
    const queued = missing.slice(0, Math.max(0, room));
    await this.producer.add(queued);
    if (queued.length < missing.length) await this.backlog.hold(missing[queued.length].id);
    if (missing.length + retried > 0) {
      this.logger.log(
        { queued: queued.length, retried, held: missing.length - queued.length },
        'outbox: queued stored webhook events',
      );
    }
    return queued.length + retried;
  }

  /** Stored events not processed yet, older than `minAgeMs`, a page after `after`. */
  private received(after: PageKey, minAgeMs: number, limit = BATCH): Promise<StoredEvent[]> {
    return this.dataSource.query<StoredEvent[]>(
      `SELECT id, source, received_at::text AS at FROM webhook_events
        WHERE status = 'received' AND received_at < now() - make_interval(secs => $1)
          AND (received_at, id) > ($3::timestamptz, $4::uuid)
        ORDER BY received_at, id LIMIT $2`,
      [minAgeMs / 1000, limit, after.at, after.id],
    );
  }

  private async feedPass(): Promise<number> {
    if (!this.backlog.holding()) return IDLE;
    const lock = this.redis.key('webhooks', 'feeding');
    const token = randomUUID();
    try {
      const taken = await this.redis.client.set(lock, token, 'PX', FEED_LOCK_MS, 'NX');
      if (taken !== 'OK') return IDLE;
      try {
        return await this.feedHeld();
      } finally {
        await this.redis.client.eval(RELEASE_LOCK, 1, lock, token);
      }
    } catch (error) {
      this.logger.warn(
        { err: error },
        'outbox: queueing held webhook events failed; will try again',
      );
      return IDLE;
    }
  }

  /**
   * Queues held events oldest first while the queue has room, and records where it stopped; once
   * none is left, events are queued as they come again.
   */
  private async feedHeld(): Promise<number> {
    const { queued: depth, heldFrom } = await this.backlog.read();
    if (heldFrom === null) return IDLE;
    let room = this.backlog.limit - depth;
    if (room <= 0) return IDLE;
    let after = await this.heldPosition(heldFrom);
    let queued = 0;
    for (let pages = 0; pages < MAX_FEED_PAGES && room > 0; pages += 1) {
      // Held events have no job: each is added without asking first (an add of a job that exists
      // adds nothing). A failed job left behind by one is retried by the periodic pass, later.
      const limit = Math.min(BATCH, room);
      const rows = await this.received(after, 0, limit);
      await this.producer.add(rows);
      queued += rows.length;
      room -= rows.length;
      if (rows.length < limit) return queued + (await this.released(rows.at(-1) ?? after));
      after = rows[rows.length - 1];
    }
    await this.backlog.heldUpTo(`${after.at}|${after.id}`);
    return queued;
  }

  /**
   * Stops holding, all held events being queued. An event held by another process meanwhile (its
   * reading not yet knowing) is held again, from where this pass stopped.
   */
  private async released(after: PageKey): Promise<number> {
    this.logger.log('outbox: every held webhook event is queued; queueing new ones as they come');
    await this.backlog.release();
    const { missing } = await retryFailedOrMissing(this.queue, await this.received(after, 0));
    if (missing.length > 0) await this.backlog.hold(missing[0].id);
    return 0;
  }

  /** Where held events begin: after the position the last pass recorded, or near the first held. */
  private async heldPosition(heldFrom: string): Promise<PageKey> {
    // `receivedAt|id` as a pass recorded it, or the id of the first event held.
    const [first, second] = heldFrom.split('|');
    if (second !== undefined) return { at: first, id: second };
    const [held] = await this.dataSource.query<Array<{ at: string }>>(
      `SELECT (received_at - make_interval(secs => $2))::text AS at FROM webhook_events WHERE id = $1`,
      [first, HELD_MARGIN_MS / 1000],
    );
    return held ? { at: held.at, id: FIRST_PAGE.id } : FIRST_PAGE;
  }
}
