/** The waits of `runSoon` for a catch-up after an outage: within seconds, not at the next pass. */
export const CATCH_UP_RETRIES_MS: readonly number[] = [1_000, 2_000, 4_000];

/**
 * A background pass run every `intervalMs` once started (the timer does not keep the process
 * alive), one at a time: asked for while a pass runs, `run` does not start another and answers
 * `idle`. The pass handles its own errors.
 */
export class PeriodicPass<T> {
  private timer?: NodeJS.Timeout;
  private running = false;
  private soonTimer?: NodeJS.Timeout;
  /** Counts `runSoon` calls and stops: tries of an earlier call end when this moves on. */
  private soonCalls = 0;

  constructor(
    private readonly pass: () => Promise<T>,
    private readonly idle: T,
  ) {}

  start(intervalMs: number): void {
    this.stop();
    this.timer = setInterval(() => void this.run(), intervalMs);
    this.timer.unref();
  }

  /** Stops the interval and any tries of `runSoon` still to come. */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.cancelSoon();
  }

  async run(): Promise<T> {
    if (this.running) return this.idle;
    this.running = true;
    try {
      return await this.pass();
    } finally {
      this.running = false;
    }
  }

  /**
   * A pass now, and again after each of `waitsMs` in turn while `pending()` says its work is not
   * done yet (the pass failed, or another was running): work that cannot wait for the interval,
   * such as a catch-up after an outage. A later call starts the waits over.
   */
  runSoon(pending: () => boolean, waitsMs: readonly number[]): void {
    const call = this.cancelSoon();
    const attempt = (tries: number): void => {
      void this.run().then(() => {
        const wait = waitsMs[tries];
        if (call !== this.soonCalls || !pending() || wait === undefined) return;
        this.soonTimer = setTimeout(() => {
          this.soonTimer = undefined;
          attempt(tries + 1);
        }, wait);
        this.soonTimer.unref();
      });
    };
    attempt(0);
  }

  private cancelSoon(): number {
    clearTimeout(this.soonTimer);
    this.soonTimer = undefined;
    return ++this.soonCalls;
  }
}
