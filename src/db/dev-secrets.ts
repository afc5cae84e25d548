// Secrets for the zero-configuration mode: generated on the first start and kept (mode 0600) in the
// data dir, so tenant passwords sealed yesterday still open today. Never used when DATABASE_URL is set.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';

export interface DevSecrets {
  readonly credentialsKeyHex: string;
  readonly adminJwtSecret: string;
  readonly postgresPassword: string;
}

export async function loadOrCreateDevSecrets(dataDir: string): Promise<DevSecrets> {
  const file = resolve(dataDir, 'secrets.json');
  try {
    const parsed: unknown = JSON.parse(await readFile(file, 'utf8'));
    if (isDevSecrets(parsed)) return parsed;
    throw new Error(`${file} is damaged; move it away to start afresh (tenant passwords sealed with it are lost)`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const secrets: DevSecrets = {
    credentialsKeyHex: randomBytes(32).toString('hex'),
    adminJwtSecret: randomBytes(32).toString('base64url'),
    postgresPassword: randomBytes(24).toString('base64url'),
  };
  await mkdir(dataDir, { recursive: true });
  // 'wx': never overwrite secrets another process wrote meanwhile.
  await writeFile(file, JSON.stringify(secrets, null, 2), { mode: 0o600, flag: 'wx' });
  return secrets;
}

function isDevSecrets(value: unknown): value is DevSecrets {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.credentialsKeyHex === 'string' &&
    /^[0-9a-f]{64}$/.test(v.credentialsKeyHex) &&
    typeof v.adminJwtSecret === 'string' &&
    v.adminJwtSecret.length >= 32 &&
    typeof v.postgresPassword === 'string'
  );
}
