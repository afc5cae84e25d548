// Running the gateway's own commands as a user would (tsx from the repository root), and finding free
// ports for servers the tests start. Every child is killed when the test file ends.
import { execFile, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';

export { freePort } from './ports.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const TSX = `${REPO_ROOT}node_modules/.bin/tsx`;

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

const running = new Set<ChildProcess>();
afterAll(() => {
  for (const child of running) child.kill('SIGKILL');
});

/** Runs `tsx src/cli.ts ...args` from the repository root, as `npm run cli -- ...args` would. */
export function runCli(args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs = 30_000): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = execFile(TSX, ['src/cli.ts', ...args], { cwd: REPO_ROOT, env, timeout: timeoutMs, killSignal: 'SIGKILL' }, (error, stdout, stderr) => {
      running.delete(child);
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
    });
    running.add(child);
  });
}
