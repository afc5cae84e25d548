// `.env` in the working directory, read once at start-up as Node's --env-file would: a variable already
// set in the environment always wins, so a deployment's own settings are never overridden by a file.
import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';

type Env = Readonly<Record<string, string | undefined>>;

export function withEnvFile(env: Env, path = '.env'): Env {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return env;
    throw err;
  }
  return { ...parseEnv(text), ...env };
}
