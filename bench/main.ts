import { join } from 'node:path';
import { Cleanup, cleanUpOnSignals } from 'bench/lib/cleanup';
import { parseOptions, UsageError, USAGE, type BenchOptions } from 'bench/lib/options';
import { RunServers } from 'bench/lib/run-servers';
import { renderTable, writeJson, type Benchmark, type BenchmarkReport } from 'bench/lib/report';
import { errorMessage } from 'bench/lib/util';
import { frameworkOverhead } from 'bench/framework-overhead';
import { memory } from 'bench/memory';
import { pipeline } from 'bench/pipeline';
import { promptCost } from 'bench/prompt-cost';
import { webhookIngest } from 'bench/webhook-ingest';

const BENCHMARKS: Benchmark[] = [webhookIngest, frameworkOverhead, promptCost, pipeline, memory];

const root = join(__dirname, '..');
const workDir = join(root, '.bench');

function progress(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

function select(names: string[]): Benchmark[] {
  if (names.length === 0) return BENCHMARKS;
  return names.map((name) => {
    const benchmark = BENCHMARKS.find((candidate) => candidate.name === name);
    if (!benchmark) {
      const known = BENCHMARKS.map((candidate) => candidate.name).join(', ');
      throw new UsageError(`unknown benchmark "${name}" (known: ${known})`);
    }
    return benchmark;
  });
}

function listing(): string {
  const lines = BENCHMARKS.map((benchmark) => `  ${benchmark.name}  ${benchmark.description}`);
  return `${USAGE}\n\nBenchmarks:\n${lines.join('\n')}\n`;
}

/**
 * Runs the benchmarks one after the other, each cleaned up before the next starts; the servers
 * they share are removed at the end.
 */
async function runAll(selected: Benchmark[], options: BenchOptions): Promise<number> {
  const cleanup = new Cleanup();
  const serversCleanup = new Cleanup();
  const removeSignalHandlers = cleanUpOnSignals(cleanup, serversCleanup);
  const servers = new RunServers(serversCleanup, progress, join(workDir, 'logs'));
  const reports: BenchmarkReport[] = [];
  let failed = false;
  try {
    for (const benchmark of selected) {
      const prefixed = (message: string) => progress(`${benchmark.name}: ${message}`);
      try {
        const report = await benchmark.run({
          options,
          cleanup,
          root,
          workDir,
          progress: prefixed,
          servers: () => servers.get(),
        });
        reports.push(report);
        prefixed(`results written to ${writeJson(workDir, report)}`);
        failed ||= report.failed;
      } catch (error) {
        failed = true;
        process.stderr.write(`\n${benchmark.name} FAILED: ${errorMessage(error)}\n\n`);
      } finally {
        prefixed('cleaning up');
        await cleanup.runAll();
      }
    }
  } finally {
    await cleanup.runAll();
    await serversCleanup.runAll();
    removeSignalHandlers();
  }
  if (reports.length > 0) process.stdout.write(`\n${renderTable(reports)}\n`);
  return failed ? 1 : 0;
}

async function main(): Promise<number> {
  try {
    const options = parseOptions(process.argv.slice(2), process.env);
    if (options === 'help') {
      process.stdout.write(listing());
      return 0;
    }
    return await runAll(select(options.benchmarks), options);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`${error.message}\n\n${listing()}`);
    return 2;
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
