import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import {
  MAX_WAIT_MS,
  MAX_WAITING_BYTES,
  WebhookEventStore,
  WebhookStoreBusyError,
} from 'src/webhook/webhook-event.store';

/** A database whose INSERTs finish only when the test says so; it records the ids of each. */
function heldDatabase() {
  const inserts: Array<{ ids: string[]; finish: () => void; fail: (error: Error) => void }> = [];
  const query = jest.fn(
    (_sql: string, parameters: unknown[]) =>
      new Promise<void>((resolve, reject) => {
        inserts.push({ ids: parameters[0] as string[], finish: resolve, fail: reject });
      }),
  );
  return { inserts, dataSource: { query } as unknown as DataSource };
}

/**
 * What became of each promise so far, by index: its id once stored, `busy` once refused as busy,
 * `failed` for any other error, `waiting` until then.
 */
function settlements(promises: Array<Promise<string>>): string[] {
  const outcomes = promises.map(() => 'waiting');
  promises.forEach((promise, index) => {
    promise.then(
      (id) => (outcomes[index] = id),
      (error: unknown) =>
        (outcomes[index] = error instanceof WebhookStoreBusyError ? 'busy' : 'failed'),
    );
  });
  return outcomes;
}

/** Lets every settled promise run its callbacks (fake timers leave setImmediate real). */
const flushPromises = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('WebhookEventStore', () => {
  beforeAll(() => {
    Logger.overrideLogger(false);
  });
  afterAll(() => {
    Logger.overrideLogger(['log', 'warn', 'error']);
  });
  afterEach(() => jest.useRealTimers());

  it('writes what arrives during a commit together in the next one', async () => {
    const { inserts, dataSource } = heldDatabase();
    const store = new WebhookEventStore(dataSource);
    const body = Buffer.from('{}');
    const appended = Array.from({ length: 10 }, () => store.append('instagram', body));
    const outcomes = settlements(appended);
    await flushPromises();
    // Four commits start at once, one event each; the other six wait for the first to finish.
    expect(inserts.map((insert) => insert.ids.length)).toEqual([1, 1, 1, 1]);
    inserts[0].finish();
    await flushPromises();
    expect(inserts.map((insert) => insert.ids.length)).toEqual([1, 1, 1, 1, 6]);
    inserts.slice(1).forEach((insert) => insert.finish());
    await Promise.all(appended);
    expect(new Set(outcomes).size).toBe(10);
    expect(inserts.flatMap((insert) => insert.ids).sort()).toEqual([...outcomes].sort());
  });

  it('refuses an event at once while the waiting bodies would pass their bound', async () => {
    const { inserts, dataSource } = heldDatabase();
    const store = new WebhookEventStore(dataSource);
    const mebibyte = Buffer.alloc(1024 * 1024);
    const perBound = MAX_WAITING_BYTES / mebibyte.length;
    // Four in commits, then exactly the bound waiting, then one more.
    const appended = Array.from({ length: 4 + perBound + 1 }, () =>
      store.append('instagram', mebibyte),
    );
    const outcomes = settlements(appended);
    await flushPromises();
    expect(outcomes.slice(0, -1).every((outcome) => outcome === 'waiting')).toBe(true);
    expect(outcomes.at(-1)).toBe('busy');

    // Once a commit finishes, the waiting bodies are written and room is made again.
    inserts[0].finish();
    await flushPromises();
    expect(inserts).toHaveLength(5);
    const next = store.append('instagram', mebibyte);
    inserts.forEach((insert) => insert.finish());
    await flushPromises();
    inserts.at(-1)?.finish();
    await expect(next).resolves.toEqual(expect.any(String));
    const written = inserts.flatMap((insert) => insert.ids);
    expect(written).toHaveLength(4 + perBound + 1);
    expect(written).toEqual(expect.arrayContaining(outcomes.slice(0, -1)));
  });

  it('refuses events that wait too long for a commit to begin, never those in one', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    const { inserts, dataSource } = heldDatabase();
    const store = new WebhookEventStore(dataSource);
    const body = Buffer.from('{}');
    const wait = MAX_WAIT_MS.instagram;
    const early = Array.from({ length: 6 }, () => store.append('instagram', body));
    const earlyOutcomes = settlements(early);
    jest.advanceTimersByTime(wait / 2);
    const lateOutcomes = settlements([store.append('instagram', body)]);

    jest.advanceTimersByTime(wait / 2);
    await flushPromises();
    // The four in commits keep waiting for them; the two queued beside them are refused.
    expect(earlyOutcomes).toEqual(['waiting', 'waiting', 'waiting', 'waiting', 'busy', 'busy']);
    expect(lateOutcomes).toEqual(['waiting']);

    jest.advanceTimersByTime(wait / 2);
    await flushPromises();
    expect(lateOutcomes).toEqual(['busy']);

    inserts.forEach((insert) => insert.finish());
    await flushPromises();
    expect(inserts).toHaveLength(4);
    expect(earlyOutcomes.slice(0, 4).every((outcome) => outcome !== 'waiting')).toBe(true);
    // Nothing refused was written.
    expect(inserts.flatMap((insert) => insert.ids)).toEqual(earlyOutcomes.slice(0, 4));
  });

  it('lets a ManyChat message, whose sender never sends it again, wait longer', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    const { inserts, dataSource } = heldDatabase();
    const store = new WebhookEventStore(dataSource);
    const body = Buffer.from('{}');
    const inCommits = Array.from({ length: 4 }, () => store.append('instagram', body));
    // The ManyChat message queues first, with the later deadline: the Instagram event behind it
    // is refused at its own.
    const outcomes = settlements([
      store.append('manychat', body, 'merchant'),
      store.append('instagram', body),
    ]);
    jest.advanceTimersByTime(MAX_WAIT_MS.instagram);
    await flushPromises();
    expect(outcomes).toEqual(['waiting', 'busy']);

    jest.advanceTimersByTime(MAX_WAIT_MS.manychat - MAX_WAIT_MS.instagram - 1);
    await flushPromises();
    expect(outcomes).toEqual(['waiting', 'busy']);

    // A commit frees up in time: the ManyChat message is written by the next one.
    inserts[0].finish();
    await Promise.all(inCommits.slice(0, 1));
    await flushPromises();
    expect(inserts.at(-1)?.ids).toEqual([expect.any(String)]);
    inserts.forEach((insert) => insert.finish());
    await flushPromises();
    expect(outcomes[0]).toEqual(inserts.at(-1)?.ids[0]);
  });

  it('passes a failed commit to every event in it', async () => {
    const { inserts, dataSource } = heldDatabase();
    const store = new WebhookEventStore(dataSource);
    const appended = store.append('manychat', Buffer.from('{}'), 'merchant');
    await flushPromises();
    inserts[0].fail(new Error('Connection terminated unexpectedly'));
    await expect(appended).rejects.toThrow('Connection terminated unexpectedly');
  });
});
