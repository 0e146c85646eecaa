import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import { freePort } from 'bench/lib/processes';
import { sleep } from 'bench/lib/util';

function run(command: string, args: string[], timeoutMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: timeoutMs }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(' ')}: ${error.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** The newest PostgreSQL server binaries installed (initdb, pg_ctl). */
function postgresBin(): string {
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base)
    ? readdirSync(base)
        .filter((entry) => /^\d+$/.test(entry))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  for (const version of versions) {
    const bin = join(base, version, 'bin');
    if (existsSync(join(bin, 'pg_ctl'))) return bin;
  }
  throw new Error('no PostgreSQL server binaries under /usr/lib/postgresql/*/bin');
}

/**
 * Runs a PostgreSQL server program. The server refuses to run as root, so root runs it as the
 * postgres user (runuser); anyone else runs it as themselves.
 */
function runAsServerUser(program: string, args: string[]): Promise<string> {
  return process.getuid?.() === 0
    ? run('runuser', ['-u', 'postgres', '--', program, ...args])
    : run(program, args);
}

/** Gives the postgres user a path that root created (nothing to do for anyone else). */
async function handToServerUser(path: string): Promise<void> {
  if (process.getuid?.() !== 0) return;
  const [uid, gid] = await Promise.all([
    run('id', ['-u', 'postgres']),
    run('id', ['-g', 'postgres']),
  ]);
  chownSync(path, Number(uid.trim()), Number(gid.trim()));
}

/**
 * A PostgreSQL cluster of a run's own: initdb in a temporary directory, run (as the postgres user
 * when started by root) on a free port of 127.0.0.1 with trust auth, configured as deployed:
 * durable (fsync, synchronous commit) and with autovacuum. The run can stop it (as a crash:
 * `immediate`) and start it again. `label` names the temporary directory.
 */
export class OwnPostgres {
  private constructor(
    private readonly bin: string,
    readonly dataDir: string,
    private readonly root: string,
    readonly port: number,
  ) {}

  static async create(label: string): Promise<OwnPostgres> {
    const bin = postgresBin();
    const root = mkdtempSync(join(tmpdir(), `radd-${label}-pg-`));
    const dataDir = join(root, 'data');
    await handToServerUser(root);
    await runAsServerUser(join(bin, 'initdb'), [
      '-D',
      dataDir,
      '-U',
      'postgres',
      '--auth=trust',
      '--no-sync',
      '-E',
      'UTF8',
      '--locale=C',
    ]);
    const port = await freePort();
    const cluster = new OwnPostgres(bin, dataDir, root, port);
    writeFileSync(cluster.logFile, '');
    await handToServerUser(cluster.logFile);
    await cluster.start();
    return cluster;
  }

  /** The server's log: checkpoints, autovacuum runs, crashes and recoveries. */
  get logFile(): string {
    return join(this.root, 'postgresql.log');
  }

  get serverUrl(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  async start(): Promise<void> {
    const options = [
      `-p ${this.port}`,
      '-c listen_addresses=127.0.0.1',
      `-c unix_socket_directories=${this.root}`,
      '-c max_connections=200',
      '-c fsync=on',
      '-c synchronous_commit=on',
      '-c shared_buffers=128MB',
      '-c autovacuum=on',
      '-c log_checkpoints=on',
      '-c log_autovacuum_min_duration=0',
    ].join(' ');
    await runAsServerUser(join(this.bin, 'pg_ctl'), [
      '-D',
      this.dataDir,
      '-o',
      options,
      '-l',
      this.logFile,
      '-w',
      '-t',
      '60',
      'start',
    ]);
    await this.waitAccepting();
  }

  /** `immediate` is a crash (recovery on the next start); `fast` a clean stop. */
  async stop(mode: 'immediate' | 'fast' = 'fast'): Promise<void> {
    await runAsServerUser(join(this.bin, 'pg_ctl'), [
      '-D',
      this.dataDir,
      '-m',
      mode,
      '-w',
      '-t',
      '60',
      'stop',
    ]);
  }

  async destroy(): Promise<void> {
    await this.stop('immediate').catch(() => undefined);
    rmSync(this.root, { recursive: true, force: true });
  }

  private async waitAccepting(): Promise<void> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const client = new Client({
        connectionString: this.serverUrl,
        connectionTimeoutMillis: 1_000,
      });
      try {
        await client.connect();
        await client.query('SELECT 1');
        await client.end();
        return;
      } catch {
        await client.end().catch(() => undefined);
        if (Date.now() > deadline) throw new Error(`PostgreSQL on ${this.port} did not start`);
        await sleep(100);
      }
    }
  }
}

/**
 * A redis-server of a run's own, configured as production requires (AOF with fsync every second,
 * noeviction), in a temporary directory, so that it costs what it costs deployed, and a SIGKILL
 * and a restart behave as they would there: what was acknowledged before the kill is read back
 * from the AOF. `label` names the temporary directory.
 */
export class OwnRedis {
  private process?: ChildProcess;

  private constructor(
    readonly port: number,
    private readonly dir: string,
  ) {}

  static async create(label: string): Promise<OwnRedis> {
    const redis = new OwnRedis(
      await freePort(),
      mkdtempSync(join(tmpdir(), `radd-${label}-redis-`)),
    );
    await redis.start();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.process = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--dir',
        this.dir,
        '--save',
        '',
        '--appendonly',
        'yes',
        '--appendfsync',
        'everysec',
        '--maxmemory-policy',
        'noeviction',
      ],
      { stdio: 'ignore' },
    );
    const deadline = Date.now() + 30_000;
    for (;;) {
      const client = new Redis(this.url, {
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      client.on('error', () => undefined);
      try {
        await client.connect();
        // LOADING until the AOF is read back.
        await client.ping();
        client.disconnect();
        return;
      } catch {
        client.disconnect();
        if (Date.now() > deadline) throw new Error(`redis-server on ${this.port} did not start`);
        await sleep(50);
      }
    }
  }

  /** SIGKILL: no goodbye to the clients, no final write, like a crash of the process. */
  async kill(): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  /**
   * SIGSTOP: the server stops answering but keeps its connections open, as behind a network
   * partition; commands sent meanwhile wait for `resume`. Its clock runs on: keys with a TTL that
   * passed while it was frozen expire when it resumes.
   */
  freeze(): void {
    this.process?.kill('SIGSTOP');
  }

  resume(): void {
    this.process?.kill('SIGCONT');
  }

  /** Removes what the server persisted (it must be stopped): the next start begins empty. */
  forgetData(): void {
    for (const entry of readdirSync(this.dir)) {
      rmSync(join(this.dir, entry), { recursive: true, force: true });
    }
  }

  async flush(): Promise<void> {
    const client = new Redis(this.url, { maxRetriesPerRequest: 1 });
    try {
      await client.flushall();
    } finally {
      client.disconnect();
    }
  }

  async destroy(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
