import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { Cleanup, cleanUpOnSignals } from 'bench/lib/cleanup';
import { snapshotDist } from 'bench/lib/radd';
import { OwnPostgres, OwnRedis } from 'bench/lib/servers';
import { errorMessage } from 'bench/lib/util';
import { runScenario, type FaultEnvironment, type Outcome } from 'test/faults/harness';
import { SCENARIOS } from 'test/faults/scenarios';

const USAGE = `Usage: npm run test:faults -- [scenario…] [--full]

Sends signed Instagram DMs through Radd (API and worker processes from dist/, a PostgreSQL
cluster and a redis-server of the test's own, a fake model and a fake ManyChat) while injecting
a fault, then checks that every acknowledged message was stored once and answered by exactly one
send, and that every unacknowledged one was recovered by Meta-style redelivery.

  --full        2,000 messages per scenario (default: 300)
  --no-echoes   Meta sends no echoes of delivered messages (a check of the checker: a send
                whose outcome was lost is then sent again, and counted as a duplicate)
  --help        show this help

Scenarios (all of them when none is named):
${SCENARIOS.map((s) => `  ${s.name.padEnd(17)} ${s.title}`).join('\n')}`;

/** Target of the issue: the backlog of a fault is answered within this after it ends. */
const RECOVERY_TARGET_SEC = 60;

const root = join(__dirname, '..', '..');
const workDir = join(root, '.bench', 'faults');

function progress(message: string): void {
  process.stderr.write(`[faults ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

function parse(argv: string[]): { full: boolean; echoes: boolean; names: string[] } | 'help' {
  let full = false;
  let echoes = true;
  const names: string[] = [];
  for (const arg of argv) {
    if (arg === '--help' || arg === '-h') return 'help';
    if (arg === '--full') full = true;
    else if (arg === '--no-echoes') echoes = false;
    else if (arg.startsWith('--')) throw new Error(`unknown option ${arg}`);
    else if (!SCENARIOS.some((s) => s.name === arg)) {
      throw new Error(`unknown scenario "${arg}"`);
    } else names.push(arg);
  }
  return { full, echoes, names };
}

function verdict(outcome: Outcome): { ok: boolean; text: string } {
  if (outcome.error) return { ok: false, text: `ERROR: ${outcome.error.split('\n')[0]}` };
  const broken =
    outcome.lost > 0 || outcome.duplicated > 0 || outcome.neverAcknowledged > 0 || !outcome.settled;
  if (broken) return { ok: false, text: outcome.settled ? 'FAILED' : 'FAILED (did not settle)' };
  const slow = outcome.recoverySec === null || outcome.recoverySec > RECOVERY_TARGET_SEC;
  return { ok: true, text: slow ? `ok, recovery > ${RECOVERY_TARGET_SEC} s` : 'ok' };
}

function table(outcomes: Outcome[]): string {
  const headers = [
    'scenario',
    'DMs',
    '1st try',
    'redelivered',
    'lost',
    'duplicated',
    'recovered',
    'recovery s',
    'run s',
    'verdict',
  ];
  const rows = outcomes.map((o) => [
    o.scenario,
    String(o.messages),
    String(o.firstTry),
    String(o.redelivered),
    String(o.lost),
    String(o.duplicated),
    String(o.recovered),
    o.recoverySec === null ? '-' : o.recoverySec.toFixed(1),
    o.runtimeSec.toFixed(0),
    verdict(o).text,
  ]);
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const render = (cells: string[]) =>
    cells
      .map((cell, i) =>
        i === 0 || i === cells.length - 1 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]),
      )
      .join('  ')
      .trimEnd();
  const lines = [render(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(render)];
  for (const o of outcomes) {
    lines.push('', `${o.scenario}: ${o.title}`);
    for (const note of o.notes) lines.push(`  ${note}`);
    lines.push(
      `  fakes: ${o.fake.model} model calls; ManyChat ${o.fake.manychatReceived} sends received, ` +
        `${o.fake.delivered} delivered, ${o.fake.refused} refused, ${o.fake.hung} left unanswered`,
    );
    if (o.neverAcknowledged > 0) {
      lines.push(`  never acknowledged within the redelivery bound: ${o.neverAcknowledged}`);
    }
    if (o.examples.slowest.length) lines.push(`  slowest: ${o.examples.slowest.join('; ')}`);
    if (o.examples.lost.length) lines.push(`  lost, e.g.: ${o.examples.lost.join('; ')}`);
    if (o.examples.duplicated.length) {
      lines.push(`  duplicated, e.g.: ${o.examples.duplicated.join('; ')}`);
    }
    const warnings = Object.entries(o.logs)
      .map(([file, log]) => [file, (log.byLevel.warn ?? 0) + (log.byLevel.error ?? 0)] as const)
      .filter(([, count]) => count > 0)
      .map(([file, count]) => `${file} ${count}`);
    if (warnings.length) lines.push(`  warn/error log lines: ${warnings.join(', ')}`);
    if (o.error) lines.push(`  error: ${o.error}`);
  }
  return lines.join('\n');
}

async function main(): Promise<number> {
  const parsed = parse(process.argv.slice(2));
  if (parsed === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const scenarios = parsed.names.length
    ? SCENARIOS.filter((s) => parsed.names.includes(s.name))
    : SCENARIOS;
  const started = Date.now();
  const cleanup = new Cleanup();
  const removeSignalHandlers = cleanUpOnSignals(cleanup);
  const outcomes: Outcome[] = [];
  try {
    mkdirSync(workDir, { recursive: true });
    const distDir = await snapshotDist(root, join(workDir, 'dist-snapshot'));
    progress('starting a PostgreSQL cluster and a redis-server of the test’s own');
    const [postgres, redis] = await Promise.all([
      OwnPostgres.create('faults'),
      OwnRedis.create('faults'),
    ]);
    cleanup.add('remove the PostgreSQL cluster', () => postgres.destroy());
    cleanup.add('remove the redis-server', () => redis.destroy());
    const env: FaultEnvironment = {
      postgres,
      redis,
      distDir,
      workDir,
      logRoot: join(workDir, 'logs'),
      messages: parsed.full ? 2_000 : 300,
      sendSeconds: parsed.full ? 60 : 20,
      settleTimeoutMs: parsed.full ? 240_000 : 150_000,
      echoes: parsed.echoes,
      progress,
    };
    for (const scenario of scenarios) {
      const outcome = await runScenario(env, scenario);
      outcomes.push(outcome);
      progress(
        `${scenario.name}: ${outcome.lost} lost, ${outcome.duplicated} duplicated, ${outcome.recovered} recovered, ` +
          `recovery ${outcome.recoverySec === null ? '-' : `${outcome.recoverySec.toFixed(1)} s`}, ${verdict(outcome).text} (${outcome.runtimeSec.toFixed(0)} s)`,
      );
    }
  } catch (error) {
    process.stderr.write(`fault tests failed to run: ${errorMessage(error)}\n`);
    return 1;
  } finally {
    await cleanup.runAll();
    removeSignalHandlers();
  }
  const runtimeSec = (Date.now() - started) / 1000;
  writeFileSync(
    join(root, '.bench', 'faults.json'),
    `${JSON.stringify({ finishedAt: new Date().toISOString(), machine: { cpus: cpus().length, node: process.version }, runtimeSec, outcomes }, null, 2)}\n`,
  );
  const ok = outcomes.every((o) => verdict(o).ok);
  const passed = outcomes.filter((o) => verdict(o).ok).length;
  process.stdout.write(`\n${table(outcomes)}\n\n`);
  process.stdout.write(
    `fault tests: ${runtimeSec.toFixed(0)} s in all; results in .bench/faults.json, logs in .bench/faults/logs/\n`,
  );
  process.stdout.write(`${passed} passed, ${outcomes.length - passed} failed\n`);
  return ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(2);
  },
);
