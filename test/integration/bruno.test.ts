// Runs the Bruno collection (bruno/) through scripts/bruno.ts against a real gateway: the collection is
// what people and CI point at a deployment, so it must pass against the code in this tree.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

const projectRoot = fileURLToPath(new URL('../..', import.meta.url));
// The spawn timeout ends the child before vitest gives up.
const RUN_TIMEOUT_MS = 170_000;

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(async () => {
  await gw?.close();
});

it('the Bruno collection passes against a live gateway', { timeout: 180_000 }, async () => {
  const { code, output } = await runBruno(gw.url, gw.adminToken);
  expect(code, `scripts/bruno.ts exited with ${code}:\n${output}`).toBe(0);
});

/** Must not block: the gateway under test answers from this same process. */
function runBruno(url: string, adminToken: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/bruno.ts', '--host', url, '--admin-token', adminToken], {
      cwd: projectRoot,
      env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: RUN_TIMEOUT_MS,
    });
    let output = '';
    const collect = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const note = signal ? `\n(killed by ${signal})` : '';
      resolve({ code, output: output.replaceAll(adminToken, '<admin token>') + note });
    });
  });
}
