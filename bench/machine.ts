// What the figures were measured on: CPUs, memory, Node, PostgreSQL, and the commit of the code.
import { execFile } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
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
