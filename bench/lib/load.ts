import autocannon from 'autocannon';
import { errorMessage, percentile } from 'bench/lib/util';

/** One request body with its headers, and the id that identifies it (e.g. the message's mid). */
export interface PreparedRequest {
  id: string;
  body: Buffer;
  headers: Record<string, string>;
}

export interface LoadTarget {
  /** Origin, e.g. http://127.0.0.1:3000 */
  origin: string;
  path: string;
  connections: number;
  /** Seconds before an unanswered request counts as a timeout. */
  timeoutSec: number;
  /** Makes the next request; called once for every request sent. */
  next: () => PreparedRequest;
}

export interface LatencySummary {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export interface PhaseStats {
  /** Length of the load window in seconds (the drain of in-flight requests comes after it). */
  seconds: number;
  sent: number;
  responses: number;
  ok: number;
  non2xx: number;
  /** Connection errors and timeouts, as autocannon counts them. */
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  /** 2xx responses received inside the load window, per second. */
  reqPerSec: number;
  /** Of 2xx responses, in ms. */
  latencyMs: LatencySummary;
}

/** What became of every request sent, over all phases, by request id. */
export class Ledger {
  /** Answered 2xx. */
  readonly acked = new Set<string>();
  /** Answered with another status. */
  readonly refused = new Set<string>();
  /** Sent and never answered (timed out, or the connection dropped). */
  readonly unanswered = new Set<string>();
}

/** The parts of an autocannon client used to stop it after its request in flight is answered. */
interface DrainableClient {
  reqsMade: number;
  responseMax?: number;
}

interface RequestContext {
  id?: string;
}

/**
 * Runs the load for `seconds`, then lets every connection finish the request it has in flight
 * (bounded by the timeout) instead of cutting it off, so each request sent is either answered or
 * counted as a timeout, and the server's side can be checked against the answers.
 */
export function runPhase(target: LoadTarget, seconds: number, ledger: Ledger): Promise<PhaseStats> {
  const clients: DrainableClient[] = [];
  const latencies: number[] = [];
  let windowOpen = true;
  let okInWindow = 0;
  let sent = 0;
  const started = performance.now();
  let windowMs = seconds * 1000;

  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: target.origin,
        connections: target.connections,
        pipelining: 1,
        timeout: target.timeoutSec,
        // A backstop only: the drain below normally ends the run well before this.
        duration: seconds + target.timeoutSec + 5,
        requests: [
          {
            method: 'POST',
            path: target.path,
            setupRequest: (request, context) => {
              const next = target.next();
              (context as RequestContext).id = next.id;
              ledger.unanswered.add(next.id);
              sent += 1;
              return {
                ...request,
                body: next.body,
                headers: { ...request.headers, ...next.headers },
              };
            },
            onResponse: (status, _body, context) => {
              const id = (context as RequestContext).id;
              if (id === undefined) return;
              ledger.unanswered.delete(id);
              (status >= 200 && status < 300 ? ledger.acked : ledger.refused).add(id);
            },
          },
        ],
        setupClient: (client) => clients.push(client as unknown as DrainableClient),
      },
      (error: unknown, result: autocannon.Result) => {
        clearTimeout(drainTimer);
        if (error) {
          reject(error instanceof Error ? error : new Error(errorMessage(error)));
          return;
        }
        resolve(summarise(result, { sent, okInWindow, windowMs, latencies }));
      },
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode < 200 || statusCode >= 300) return;
      latencies.push(responseTime);
      if (windowOpen) okInWindow += 1;
    });
    const drainTimer = setTimeout(() => {
      windowOpen = false;
      windowMs = performance.now() - started;
      // A client stops (and the run ends) once it has as many answers as it sent requests.
      for (const client of clients) client.responseMax = client.reqsMade;
    }, seconds * 1000);
  });
}

function summarise(
  result: autocannon.Result,
  own: { sent: number; okInWindow: number; windowMs: number; latencies: number[] },
): PhaseStats {
  const statusCodes: Record<string, number> = {};
  for (const [code, stat] of Object.entries(result.statusCodeStats ?? {})) {
    statusCodes[code] = stat.count ?? 0;
  }
  const ok = result['2xx'];
  return {
    seconds: own.windowMs / 1000,
    sent: own.sent,
    responses: Object.values(statusCodes).reduce((sum, count) => sum + count, 0),
    ok,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes,
    reqPerSec: own.okInWindow / (own.windowMs / 1000),
    latencyMs: summariseLatency(own.latencies),
  };
}

function summariseLatency(values: number[]): LatencySummary {
  const sorted = Float64Array.from(values).sort();
  const total = values.reduce((sum, value) => sum + value, 0);
  return {
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted.length > 0 ? sorted[sorted.length - 1] : Number.NaN,
    mean: sorted.length > 0 ? total / sorted.length : Number.NaN,
  };
}

export interface LoadRun {
  warmup: PhaseStats | null;
  measured: PhaseStats;
}

/** A warm-up phase (same load, reported apart), then the measured phase. */
export async function runWithWarmup(
  target: LoadTarget,
  timing: { warmupSec: number; durationSec: number },
  ledger: Ledger,
): Promise<LoadRun> {
  const warmup = timing.warmupSec > 0 ? await runPhase(target, timing.warmupSec, ledger) : null;
  const measured = await runPhase(target, timing.durationSec, ledger);
  return { warmup, measured };
}
