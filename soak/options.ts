// Command line of `npm run soak`: how long to run, and whether to keep the database afterwards.
export interface SoakOptions {
  /** Length of the soak; the fault schedule is compressed so every fault kind happens even in one minute. */
  readonly minutes: number;
  /** Keep the embedded PostgreSQL's data directory (and print where it is) instead of removing it. */
  readonly keepData: boolean;
}

export const USAGE = `usage: npm run soak -- [--minutes N] [--keep-data]
  --minutes N   how long to drive traffic and inject faults (default 10; decimals allowed, at least 1)
  --keep-data   keep the embedded PostgreSQL data directory for inspection`;

export class UsageError extends Error {}

export const DEFAULT_MINUTES = 10;

export function parseOptions(argv: readonly string[]): SoakOptions {
  let minutes = DEFAULT_MINUTES;
  let keepData = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') throw new UsageError('');
    if (arg === '--keep-data') {
      keepData = true;
      continue;
    }
    const [name, inline] = arg?.startsWith('--minutes=') ? ['--minutes', arg.slice('--minutes='.length)] : [arg, undefined];
    if (name === '--minutes') {
      const raw = inline ?? argv[++i];
      if (raw === undefined || !/^\d{1,4}(\.\d{1,2})?$/.test(raw) || Number(raw) < 1 || Number(raw) > 24 * 60) {
        throw new UsageError(`--minutes must be a number from 1 to 1440 (got ${JSON.stringify(raw ?? '')})`);
      }
      minutes = Number(raw);
      continue;
    }
    throw new UsageError(`unknown argument ${JSON.stringify(arg)}`);
  }
  return { minutes, keepData };
}
