// Starts one real PostgreSQL for the whole run (embedded, or from TEST_PG_BIN's binaries; scram-sha-256
// password authentication), unless TEST_DATABASE_URL names a server to use instead (a superuser URL:
// tests create databases and roles).
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { TestProject } from 'vitest/node';
import { freePort } from './ports.js';
import { serverVersion, startPostgresServer, testServerBinaries } from './postgres-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    adminUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const external = process.env.TEST_DATABASE_URL;
  if (external) {
    project.provide('adminUrl', external);
    return async () => {};
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
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  };
}

