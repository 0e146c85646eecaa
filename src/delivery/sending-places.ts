/**
 * The places of replies sent by their own jobs in one process: at most `limit` at once. A job
 * that finds them taken waits in line for one, up to a bound: a place comes back every few
 * milliseconds while sends go through (a hand-off to a delivery job would cost a job and two
 * reads more, just when the process is busiest), and the wait stays short when a provider hangs.
 */
export class SendingPlaces {
  private taken = 0;
  private readonly line: Array<(got: boolean) => void> = [];

  constructor(private readonly limit: number) {}

  /** Resolves true with a place, or false once `waitMs` passed without one. */
  take(waitMs: number): Promise<boolean> {
    if (this.taken < this.limit) {
      this.taken += 1;
      return Promise.resolve(true);
    }
    if (waitMs <= 0) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        const at = this.line.indexOf(granted);
        if (at >= 0) this.line.splice(at, 1);
        resolve(false);
      }, waitMs);
      const granted = (got: boolean) => {
        clearTimeout(timer);
        resolve(got);
      };
      this.line.push(granted);
    });
  }

  /** Gives a place back: to the first in line, if any. */
  give(): void {
    const next = this.line.shift();
    if (next) next(true);
    else this.taken -= 1;
  }
}
