import { existsSync, readFileSync } from 'node:fs';

export interface LogSummary {
  file: string;
  lines: number;
  /** Pino levels: 40 warn, 50 error, 60 fatal; lines that are not JSON count as "other". */
  byLevel: Record<string, number>;
  /** The most frequent messages, most frequent first. */
  top: Array<{ message: string; count: number }>;
}

const LEVELS: Record<number, string> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};

/** Counts the lines of a child's log by level and message. */
export function summariseLog(file: string, topCount = 3): LogSummary {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  const byLevel: Record<string, number> = {};
  const messages = new Map<string, number>();
  for (const line of lines) {
    const { level, message } = parseLine(line);
    byLevel[level] = (byLevel[level] ?? 0) + 1;
    messages.set(message, (messages.get(message) ?? 0) + 1);
  }
  const top = [...messages.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, topCount)
    .map(([message, count]) => ({ message, count }));
  return { file, lines: lines.length, byLevel, top };
}

function parseLine(line: string): { level: string; message: string } {
  try {
    const entry = JSON.parse(line) as { level?: number; msg?: string; err?: { message?: string } };
    const level = LEVELS[entry.level ?? 0] ?? 'other';
    const cause = entry.err?.message ? ` (${entry.err.message})` : '';
    return { level, message: `${entry.msg ?? ''}${cause}`.slice(0, 200) };
  } catch {
    return { level: 'other', message: line.slice(0, 200) };
  }
}

/** "2 warn, 1 error" or "clean". */
export function describeLog(summary: LogSummary): string {
  const counts = Object.entries(summary.byLevel).map(([level, count]) => `${count} ${level}`);
  return counts.length > 0 ? counts.join(', ') : 'clean';
}
