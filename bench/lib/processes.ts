import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname } from 'node:path';
import { poll, sleep } from 'bench/lib/util';

/** A Node process started by the bench, its output going to a log file. */
export interface Child {
  name: string;
  process: ChildProcess;
  logFile: string;
  /** Resolves once the process has ended and its output is flushed: "code N" or the signal. */
  ended: Promise<string>;
}

export interface ChildSettings {
  env: NodeJS.ProcessEnv;
  cwd: string;
  logFile: string;
}

/** A TCP port on 127.0.0.1 that nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

/** Starts `node <args…>` with exactly the given environment. */
export function startChild(name: string, args: string[], settings: ChildSettings): Child {
  mkdirSync(dirname(settings.logFile), { recursive: true });
  const log = createWriteStream(settings.logFile);
  const child = spawn(process.execPath, args, {
    cwd: settings.cwd,
    env: settings.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  const ended = new Promise<string>((resolve) => {
    child.once('error', (error) => {
      log.end(`spawn failed: ${error.message}\n`);
      resolve(`spawn error: ${error.message}`);
    });
    child.once('close', (code, signal) => {
      log.end();
      resolve(signal ?? `code ${code}`);
    });
  });
  return { name, process: child, logFile: settings.logFile, ended };
}

export function isRunning(child: Child): boolean {
  return child.process.exitCode === null && child.process.signalCode === null;
}

/** SIGTERM, then SIGKILL when the process has not ended within `graceMs`. */
export async function stopChild(child: Child, graceMs = 5_000): Promise<void> {
  if (!isRunning(child)) return;
  child.process.kill('SIGTERM');
  const ended = await Promise.race([
    child.ended.then(() => true),
    sleep(graceMs).then(() => false),
  ]);
  if (ended) return;
  child.process.kill('SIGKILL');
  await Promise.race([child.ended, sleep(graceMs)]);
}

/** Runs a process to its end; rejects with the end of its log when it fails or takes too long. */
export async function runChild(
  name: string,
  args: string[],
  settings: ChildSettings,
  timeoutMs: number,
): Promise<void> {
  const child = startChild(name, args, settings);
  const outcome = await Promise.race([child.ended, sleep(timeoutMs).then(() => 'timeout')]);
  if (outcome === 'timeout') await stopChild(child, 1_000);
  if (outcome !== 'code 0') {
    throw new Error(`${name} ended with ${outcome}:\n${tail(child.logFile)}`);
  }
}

/** Waits until GET `url` answers 200; rejects when the process ends first or time is up. */
export async function waitReady(child: Child, url: string, timeoutMs: number): Promise<void> {
  const ready = await poll(
    async () => {
      if (!isRunning(child)) return false;
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
        await response.body?.cancel();
        return response.status === 200 ? true : undefined;
      } catch {
        return undefined;
      }
    },
    { timeoutMs, everyMs: 200 },
  );
  if (ready === true) return;
  const why = ready === false ? 'ended before it was ready' : `was not ready in ${timeoutMs} ms`;
  throw new Error(`${child.name} ${why} (${url}):\n${tail(child.logFile)}`);
}

/** The last lines of a log file, indented, for error messages. */
export function tail(file: string, lines = 15): string {
  if (!existsSync(file)) return '  (no output)';
  const text = readFileSync(file, 'utf8').trimEnd();
  if (text === '') return '  (no output)';
  return text
    .split('\n')
    .slice(-lines)
    .map((line) => `  ${line}`)
    .join('\n');
}

/** Sends `signal` (SIGKILL by default: no goodbye, like a crash) and waits until the process is gone. */
export async function killChild(child: Child, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (!isRunning(child)) return;
  child.process.kill(signal);
  await Promise.race([child.ended, sleep(10_000)]);
}

export interface ResidentMemory {
  /** Resident set size now, in bytes. */
  rss: number;
  /** Highest resident set size so far (VmHWM), in bytes. */
  peak: number;
}

/** A process's resident memory, read from /proc; null when it is gone or /proc has no answer. */
export function residentMemory(pid: number | undefined): ResidentMemory | null {
  if (pid === undefined) return null;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (field: string): number => {
      const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
      return match ? Number(match[1]) * 1024 : Number.NaN;
    };
    return { rss: kib('VmRSS'), peak: kib('VmHWM') };
  } catch {
    return null;
  }
}
