import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Cleanup } from 'bench/lib/cleanup';
import type { BenchOptions } from 'bench/lib/options';
import type { Servers } from 'bench/lib/run-servers';

/**
 * One line of the result table: a variant measured under load (requests or messages per second,
 * latency, errors) and/or a figure of another kind (`result`: memory, tokens, a verdict).
 * Figures that do not apply are left out and printed as "-".
 */
export interface ResultRow {
  benchmark: string;
  variant: string;
  reqPerSec?: number;
  p50Ms?: number;
  p99Ms?: number;
  errors?: number;
  non2xx?: number;
  result?: string;
}

export interface BenchmarkReport {
  name: string;
  rows: ResultRow[];
  /** Printed under the table: ratios, checks, observations. */
  lines: string[];
  /** A check failed (the run exits non-zero). */
  failed: boolean;
  /** Everything measured, written to .bench/<name>.json. */
  details: Record<string, unknown>;
}

/** What a benchmark gets from the runner. */
export interface BenchContext {
  options: BenchOptions;
  cleanup: Cleanup;
  /** Repository root. */
  root: string;
  /** .bench/: logs, results, the working directory of child processes. */
  workDir: string;
  /** Progress on stderr, so the table on stdout stays clean. */
  progress: (message: string) => void;
  /** The run's PostgreSQL and Redis, started on first use and shared by its benchmarks. */
  servers: () => Promise<Servers>;
}

export interface Benchmark {
  name: string;
  description: string;
  run(context: BenchContext): Promise<BenchmarkReport>;
}

const HEADERS = ['benchmark', 'variant', 'per s', 'p50 ms', 'p99 ms', 'errors/non-2xx', 'result'];
const RIGHT_ALIGNED = new Set([2, 3, 4, 5]);

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

export function formatMs(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '-';
  return value < 10 ? value.toFixed(2) : value < 100 ? value.toFixed(1) : integer.format(value);
}

export function formatCount(value: number | undefined): string {
  return value !== undefined && Number.isFinite(value) ? integer.format(value) : '-';
}

function errorCell(row: ResultRow): string {
  if (row.errors === undefined && row.non2xx === undefined) return '-';
  return `${formatCount(row.errors ?? 0)}/${formatCount(row.non2xx ?? 0)}`;
}

/** The one table printed at the end of a run, followed by each benchmark's lines. */
export function renderTable(reports: BenchmarkReport[]): string {
  const cells = reports.flatMap((report) =>
    report.rows.map((row) => [
      row.benchmark,
      row.variant,
      formatCount(row.reqPerSec),
      formatMs(row.p50Ms),
      formatMs(row.p99Ms),
      errorCell(row),
      row.result ?? '',
    ]),
  );
  const widths = HEADERS.map((header, column) =>
    Math.max(header.length, ...cells.map((row) => row[column].length)),
  );
  const render = (row: string[]): string =>
    row
      .map((cell, column) =>
        RIGHT_ALIGNED.has(column) ? cell.padStart(widths[column]) : cell.padEnd(widths[column]),
      )
      .join('  ')
      .trimEnd();
  const rule = widths.map((width) => '-'.repeat(width)).join('  ');
  const notes = reports.flatMap((report) => report.lines);
  return [
    render(HEADERS),
    rule,
    ...cells.map(render),
    ...(notes.length ? ['', ...notes] : []),
  ].join('\n');
}

/** Writes .bench/<name>.json; returns its path. */
export function writeJson(workDir: string, report: BenchmarkReport): string {
  mkdirSync(workDir, { recursive: true });
  const file = join(workDir, `${report.name}.json`);
  const { name, rows, lines, failed, details } = report;
  writeFileSync(file, `${JSON.stringify({ name, failed, rows, lines, ...details }, null, 2)}\n`);
  return file;
}
