// Starts one real PostgreSQL for the whole run (embedded, or from TEST_PG_BIN's binaries; scram-sha-256
// password authentication), unless TEST_DATABASE_URL names a server to use instead (a superuser URL:
// tests create databases and roles).
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { TestProject } from 'vitest/node';
import { freePort } from './ports.js';
import { serverVersion, startPostgresServer, testServerBinaries } from './postgres-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    adminUrl: string;
    /** Where test files record how many answers the OpenAPI contract checked (./contract-log.ts). */
    contractLog: string | undefined;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const contractDir = await mkdtemp(join(tmpdir(), 'tenantgate-contract-'));
  const contractLog = join(contractDir, 'checked.jsonl');
  project.provide('contractLog', contractLog);
  const reportContract = async (): Promise<void> => {
    await reportContractTally(contractLog);
    await rm(contractDir, { recursive: true, force: true });
  };
  const external = process.env.TEST_DATABASE_URL;
  if (external) {
    project.provide('adminUrl', external);
    return reportContract;
  }
  const dataDir = await mkdtemp(join(tmpdir(), 'tenantgate-test-'));
  // mkdtemp makes it 0700; as root, the server runs as the postgres system user and must get through.
  await chmod(dataDir, 0o755);
  const server = await startPostgresServer({
    dataDir,
    port: await freePort(),
    superuserPassword: randomBytes(18).toString('base64url'),
    database: 'postgres',
  });
  project.provide('adminUrl', server.url);
  // Says which server answered, so a CI log shows that the TEST_PG_BIN pass really ran on it.
  if (testServerBinaries() !== undefined) console.log(`tests run against ${await serverVersion(server.url)} from ${testServerBinaries()}`);
  return async () => {
    await reportContract();
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  };
}

/** One line for the run: how many answers the suites held to the OpenAPI document, and how widely. */
async function reportContractTally(log: string): Promise<void> {
  const lines = (await readFile(log, 'utf8').catch(() => '')).split('\n').filter((l) => l !== '');
  if (lines.length === 0) return;
  const answers = new Set<string>();
  let count = 0;
  for (const line of lines) {
    const tally = JSON.parse(line) as { count: number; answers: string[] };
    count += tally.count;
    for (const a of tally.answers) answers.add(a);
  }
  console.log(
    `OpenAPI contract: ${count} answers in ${lines.length} test files checked against the document (${answers.size} distinct operation/status pairs)`,
  );
}
