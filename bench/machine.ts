// What the figures were measured on: CPUs, memory, Node, PostgreSQL, and the commit of the code.
import { execFile } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';
import { promisify } from 'node:util';
import { REPO_ROOT } from './servers.js';

const run = promisify(execFile);

export interface MachineInfo {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryGb: number;
  readonly node: string;
  readonly postgres: string;
  readonly commit: string;
  /** Tracked files differ from the commit: the figures are for uncommitted code. */
  readonly dirty: boolean | undefined;
  /** 1-minute load average when the bench started: other work on the box skews every figure. */
  readonly loadAverageAtStart: number;
}

export async function machineInfo(postgresVersion: string): Promise<MachineInfo> {
  const list = cpus();
  return {
    cpus: list.length,
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    memoryGb: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    postgres: postgresVersion,
    commit: (await git(['rev-parse', 'HEAD'])) ?? 'unknown',
    dirty: await isDirty(),
    loadAverageAtStart: Math.round((loadavg()[0] ?? 0) * 100) / 100,
  };
}

async function isDirty(): Promise<boolean | undefined> {
  // --no-optional-locks: read-only, git must not refresh the index while others work in the tree.
  const out = await git(['--no-optional-locks', 'status', '--porcelain', '--untracked-files=no']);
  return out === undefined ? undefined : out.length > 0;
}

async function git(args: string[]): Promise<string | undefined> {
  try {
    const { stdout } = await run('git', args, { cwd: REPO_ROOT, timeout: 5000 });
    return stdout.trim();
  } catch {
    return undefined;
  }
}
