/**
 * A background pass run every `intervalMs` once started (the timer does not keep the process
 * alive), one at a time: asked for while a pass runs, `run` does not start another and answers
 * `idle`. The pass handles its own errors.
 */
export class PeriodicPass<T> {
  private timer?: NodeJS.Timeout;
  private running = false;

  constructor(
    private readonly pass: () => Promise<T>,
    private readonly idle: T,
  ) {}

  start(intervalMs: number): void {
    this.stop();
    this.timer = setInterval(() => void this.run(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
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
}
