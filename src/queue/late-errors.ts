import { EventEmitter } from 'node:events';
import type { QueueBase } from 'bullmq';

/**
 * BullMQ reports a connection that failed while it was still starting by emitting `error` on its
 * RedisConnection, even after `close()` has removed every listener; Node then throws it as an
 * unhandled error. That happens when a process stops while Redis is away or still connecting. An
 * error nobody listens to any more is dropped here instead (while the queue or worker is open its
 * own listeners, and ours, report it).
 */
export function dropErrorsAfterClose(target: QueueBase): void {
  const holder = target as unknown as Record<string, unknown>;
  for (const key of ['connection', 'blockingConnection']) {
    const connection = holder[key];
    if (!(connection instanceof EventEmitter)) continue;
    const emit = connection.emit.bind(connection);
    connection.emit = (event: string | symbol, ...args: unknown[]): boolean =>
      event === 'error' && connection.listenerCount('error') === 0 ? false : emit(event, ...args);
  }
}
