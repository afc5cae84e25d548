// How much CPU other work on the machine took during a run. The box is shared (other sessions may run
// tests on it), and on two cores any foreign load skews req/s, so each run records it: machine busy
// time from /proc/stat minus the time of the bench's own process tree (the bench with autocannon,
// the server under test, the embedded PostgreSQL and its backends) and of the bench's servers outside
// that tree (the Citus cluster's postmasters, which pg_ctl detaches, and their backends).
import { readdir, readFile } from 'node:fs/promises';
import { cpus } from 'node:os';

interface Snapshot {
  readonly at: number;
  /** user + nice + system jiffies of the whole machine. */
  readonly busy: number;
  /** utime + stime jiffies per pid of the bench's process tree. */
  readonly ours: Map<number, number>;
}

// USER_HZ: the unit of /proc CPU times on Linux (100 on every mainstream architecture).
const HZ = 100;

export interface ForeignCpuWatch {
  /** Percent of the machine's total CPU capacity used by others since the watch began (0-100). */
  stop(): Promise<number | undefined>;
}

/** `alsoOurs`: pids of the bench's servers outside its own process tree; their descendants count as ours too. */
export async function watchForeignCpu(alsoOurs: readonly number[] = []): Promise<ForeignCpuWatch> {
  const roots = [process.pid, ...alsoOurs];
  const snapshot = (): Promise<Snapshot> => takeSnapshot(roots);
  const start = await snapshot().catch(() => undefined);
  return {
    async stop() {
      const end = await snapshot().catch(() => undefined);
      if (!start || !end) return undefined;
      let ours = 0;
      // A pid seen only at the end started during the run: all of its time is in the window.
      for (const [pid, jiffies] of end.ours) ours += jiffies - (start.ours.get(pid) ?? 0);
      const capacity = ((end.at - start.at) / 1000) * HZ * cpus().length;
      if (capacity <= 0) return undefined;
      const foreign = Math.max(0, end.busy - start.busy - ours);
      return Math.round((foreign / capacity) * 1000) / 10;
    },
  };
}

async function takeSnapshot(roots: readonly number[]): Promise<Snapshot> {
  const at = Date.now();
  const stat = await readFile('/proc/stat', 'utf8');
  const fields = (stat.split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  const busy = (fields[0] ?? 0) + (fields[1] ?? 0) + (fields[2] ?? 0);
  const processes = await readProcesses();
  const ours = new Map<number, number>();
  for (const root of roots) for (const [pid, jiffies] of descendantsTimes(processes, root)) ours.set(pid, jiffies);
  return { at, busy, ours };
}

interface ProcessTimes {
  readonly ppid: number;
  readonly jiffies: number;
}

async function readProcesses(): Promise<Map<number, ProcessTimes>> {
  const result = new Map<number, ProcessTimes>();
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const text = await readFile(`/proc/${name}/stat`, 'utf8');
      // The command name is in parentheses and may hold spaces: fields start after the last ')'.
      const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
      result.set(Number(name), { ppid: Number(rest[1]), jiffies: Number(rest[11]) + Number(rest[12]) });
    } catch {
      // Exited while we looked.
    }
  }
  return result;
}

function descendantsTimes(processes: Map<number, ProcessTimes>, root: number): Map<number, number> {
  const children = new Map<number, number[]>();
  for (const [pid, { ppid }] of processes) children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  const ours = new Map<number, number>();
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.pop() as number;
    const times = processes.get(pid);
    if (times) ours.set(pid, times.jiffies);
    queue.push(...(children.get(pid) ?? []));
  }
  return ours;
}
