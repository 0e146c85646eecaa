import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's CPU times (USER_HZ; 100 on Linux). */
const TICKS = 100;

/** CPU seconds (user + system) a process used so far; 0 when it is gone. */
function processSeconds(pid: number): number {
  try {
    return statSeconds(readFileSync(`/proc/${pid}/stat`, 'utf8'), false);
  } catch {
    return 0;
  }
}

/** From a /proc/<pid>/stat line; with `children`, also its children that ended and were waited for. */
function statSeconds(stat: string, children: boolean): number {
  // Fields after the command: state is 0, utime 11, stime 12, cutime 13, cstime 14.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const own = Number(fields[11]) + Number(fields[12]);
  return (children ? own + Number(fields[13]) + Number(fields[14]) : own) / TICKS;
}

/**
 * CPU seconds of every process whose command name is `command` (e.g. postgres), those that ended
 * included: a server's parent process (PostgreSQL's postmaster) waits for its backends, so their
 * time moves into its children's count when they exit. Without that, a backend closed during an
 * interval (an idle pooled connection) would take all its CPU time out of the sum.
 */
function commandSeconds(command: string): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (name === command) total += statSeconds(stat, true);
    } catch {
      // the process ended meanwhile
    }
  }
  return total;
}

/** Busy and total CPU seconds of the whole machine, all cores. */
function machineSeconds(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  const total = values.reduce((sum, value) => sum + value, 0);
  const idle = values[3] + (values[4] ?? 0);
  return { busy: (total - idle) / TICKS, total: total / TICKS };
}

export interface CpuUse {
  /** Cores used on average over the interval, per labelled process or command. */
  cores: Record<string, number>;
  /** Share of the machine's CPU busy over the interval (everything, other users included). */
  machineBusy: number;
}

/**
 * Measures CPU use over an interval: of given processes (by pid, labelled), of every process of
 * given commands (postgres, redis-server: shared servers count whoever uses them), and of the
 * machine as a whole (which shows load from outside the run too).
 */
export class CpuMeter {
  private startedAt = 0;
  private startSeconds = new Map<string, number>();
  private startMachine = { busy: 0, total: 0 };

  constructor(
    private readonly pids: () => Record<string, number | undefined>,
    private readonly commands: string[] = ['postgres', 'redis-server'],
  ) {}

  start(): void {
    this.startedAt = performance.now();
    this.startSeconds = this.read();
    this.startMachine = machineSeconds();
  }

  stop(): CpuUse {
    const wall = (performance.now() - this.startedAt) / 1000;
    const now = this.read();
    const cores: Record<string, number> = {};
    for (const [label, seconds] of now) {
      cores[label] = Math.max(0, seconds - (this.startSeconds.get(label) ?? seconds)) / wall;
    }
    const machine = machineSeconds();
    const total = machine.total - this.startMachine.total;
    return {
      cores,
      machineBusy: total > 0 ? (machine.busy - this.startMachine.busy) / total : Number.NaN,
    };
  }

  private read(): Map<string, number> {
    const seconds = new Map<string, number>();
    for (const [label, pid] of Object.entries(this.pids())) {
      if (pid !== undefined) seconds.set(label, processSeconds(pid));
    }
    for (const command of this.commands) seconds.set(command, commandSeconds(command));
    return seconds;
  }
}

/** "api 0.42, worker 0.91, postgres 0.55 cores; machine 96% busy". */
export function describeCpu(use: CpuUse): string {
  const parts = Object.entries(use.cores).map(([label, cores]) => `${label} ${cores.toFixed(2)}`);
  return `${parts.join(', ')} cores; machine ${(use.machineBusy * 100).toFixed(0)}% busy`;
}
