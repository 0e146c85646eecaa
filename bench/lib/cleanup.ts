import { errorMessage, withTimeout } from 'bench/lib/util';

/** How long one cleanup step may take before the next one runs anyway. */
const STEP_TIMEOUT_MS = 20_000;

interface Step {
  name: string;
  run: () => Promise<void> | void;
}

/**
 * Undo steps registered while a benchmark sets things up (child processes, databases, Redis keys),
 * run newest first, each bounded in time, whatever failed before.
 */
export class Cleanup {
  private steps: Step[] = [];
  private running: Promise<void> | null = null;

  add(name: string, run: () => Promise<void> | void): void {
    this.steps.push({ name, run });
  }

  /** Runs every pending step once; concurrent callers share the same pass. */
  runAll(): Promise<void> {
    this.running ??= this.drain().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async drain(): Promise<void> {
    for (let step = this.steps.pop(); step; step = this.steps.pop()) {
      try {
        await withTimeout(Promise.resolve(step.run()), STEP_TIMEOUT_MS, step.name);
      } catch (error) {
        process.stderr.write(`cleanup: ${step.name} failed: ${errorMessage(error)}\n`);
      }
    }
  }
}

/**
 * On SIGINT/SIGTERM/SIGHUP: runs each cleanup in turn, then exits with 128+signal. A second signal
 * exits at once. Returns a function that removes the handlers.
 */
export function cleanUpOnSignals(...cleanups: Cleanup[]): () => void {
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  const codes = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 };
  let stopping = false;
  const handler = (signal: (typeof signals)[number]): void => {
    if (stopping) process.exit(codes[signal]);
    stopping = true;
    process.stderr.write(`\n${signal}: cleaning up (send it again to exit at once)\n`);
    const all = cleanups.reduce<Promise<void>>(
      (previous, cleanup) => previous.then(() => cleanup.runAll()),
      Promise.resolve(),
    );
    void all.finally(() => process.exit(codes[signal]));
  };
  for (const signal of signals) process.on(signal, handler);
  return () => signals.forEach((signal) => process.off(signal, handler));
}
