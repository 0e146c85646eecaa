import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { TEST_SECRETS, NOWHERE, uniquePrefix, type EnvOverrides } from 'test/utils/app';
import { freePort } from 'test/utils/redis-server';

const root = join(__dirname, '..', '..');

export interface BuiltServer {
  url: string;
  process: ChildProcess;
  output: () => string;
  /** Resolves with how the process ended. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Builds dist/ when stale, then runs `node dist/main.js` with the run's database and the given settings. */
export async function startBuiltServer(overrides: EnvOverrides = {}): Promise<BuiltServer> {
  execFileSync(process.execPath, [join(root, 'scripts', 'ensure-build.js')], { stdio: 'ignore' });
  const port = await freePort();
  const role = overrides.APP_ROLE ?? 'all';
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    ...TEST_SECRETS,
    DATABASE_URL: process.env.DATABASE_URL,
    REDIS_URL: process.env.REDIS_URL,
    REDIS_PREFIX: uniquePrefix(),
    HOST: '127.0.0.1',
    PORT: String(port),
    WORKER_HEALTH_PORT: String(port),
    LOG_LEVEL: 'warn',
    GRAPH_API_BASE_URL: NOWHERE,
    INSTAGRAM_API_BASE_URL: NOWHERE,
    MANYCHAT_BASE_URL: NOWHERE,
    OPENAI_BASE_URL: NOWHERE,
    ...overrides,
    APP_ROLE: role,
  };
  const child = spawn(process.execPath, [join(root, 'dist', 'main.js')], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the server exited: ${output}`);
    const live = await fetch(`${url}/health/live`)
      .then((res) => res.ok)
      .catch(() => false);
    if (live) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the server did not start: ${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    process: child,
    output: () => output,
    stop: (signal: NodeJS.Signals = 'SIGTERM') =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) {
          resolve({ code: child.exitCode, signal: child.signalCode });
          return;
        }
        child.once('exit', (code, exitSignal) => resolve({ code, signal: exitSignal }));
        child.kill(signal);
      }),
  };
}
