// Runs the Bruno collection in bruno/ against a live gateway and exits with the CLI's status.
// Usage: npm run bruno -- [--host <url>] [--admin-token <jwt>] [bru paths or options, e.g. 01-health --bail]
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// The Bruno CLI pinned in devDependencies (@usebruno/cli), so a run never downloads it.
const BRU_CLI = fileURLToPath(new URL('../node_modules/.bin/bru', import.meta.url));
const DEFAULT_HOST = 'http://127.0.0.1:8080';
const projectRoot = fileURLToPath(new URL('..', import.meta.url));
const collectionDir = join(projectRoot, 'bruno');

interface Options {
  readonly host: string;
  readonly adminToken: string | undefined;
  /** Passed to `bru run` unchanged: folders or files to run, or further CLI options. */
  readonly bruArgs: readonly string[];
}

function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv): Options {
  const own = new Map<string, string>();
  const bruArgs: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const match = /^--(host|admin-token)(?:=(.*))?$/s.exec(arg);
    if (!match?.[1]) {
      bruArgs.push(arg);
      continue;
    }
    const value = match[2] ?? argv[++i];
    if (value === undefined) throw new Error(`--${match[1]} needs a value`);
    own.set(match[1], value);
  }
  const host = nonEmpty(own.get('host')) ?? nonEmpty(env.GATEWAY_URL) ?? DEFAULT_HOST;
  const protocol = URL.canParse(host) ? new URL(host).protocol : '';
  if (protocol !== 'http:' && protocol !== 'https:') {
    throw new Error(`--host / GATEWAY_URL must be an http(s) URL (got "${host}")`);
  }
  const adminToken = nonEmpty(own.get('admin-token')) ?? nonEmpty(env.ADMIN_TOKEN);
  return { host: host.replace(/\/+$/, ''), adminToken, bruArgs };
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

/** The project's own CLI mints an admin token and prints only it on stdout. */
async function mintAdminToken(): Promise<string> {
  const { code, stdout } = await run('npm', ['run', '-s', 'cli', '--', 'token', 'admin'], {
    cwd: projectRoot,
    captureStdout: true,
  });
  const token = stdout.trim();
  if (code !== 0 || !token) {
    throw new Error(`"npm run cli -- token admin" failed (exit ${code}); pass --admin-token or ADMIN_TOKEN instead`);
  }
  return token;
}

async function runCollection(options: Options, adminToken: string): Promise<number> {
  const reportDir = await mkdtemp(join(tmpdir(), 'tenantgate-bruno-'));
  const report = join(reportDir, 'results.json');
  try {
    const args = [
      'run',
      '--env',
      'local',
      '--env-var',
      `host=${options.host}`,
      // admin_token is declared secret in environments/local.bru, so bru masks it in its reports.
      '--env-var',
      `admin_token=${adminToken}`,
      '--reporter-json',
      report,
      ...options.bruArgs,
    ];
    const { code } = await run(BRU_CLI, args, { cwd: collectionDir, captureStdout: false });
    if (code !== 0) return code;
    // bru skips a .bru file it cannot parse with only a warning, and still exits 0.
    const unparsed = await unparsedFiles(report);
    if (unparsed.length === 0) return 0;
    console.error(`bruno: ${unparsed.length} request file(s) could not be parsed:\n  ${unparsed.join('\n  ')}`);
    return 1;
  } finally {
    await rm(reportDir, { recursive: true, force: true });
  }
}

/**
 * Request files bru could not parse, from its JSON report (an array of iterations, each with
 * `results`). A file skipped by --bail has no `error`, and --bail has already failed the run.
 */
async function unparsedFiles(reportPath: string): Promise<string[]> {
  let report: unknown;
  try {
    report = JSON.parse(await readFile(reportPath, 'utf8'));
  } catch (error) {
    // No report at all: bru ran nothing (e.g. --help was passed through), so nothing was skipped.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const results = (Array.isArray(report) ? report : []).flatMap((iteration: unknown) =>
    isRecord(iteration) && Array.isArray(iteration.results) ? iteration.results : [],
  );
  return results
    .filter((result): result is Record<string, unknown> => isRecord(result) && result.skipped === true && Boolean(result.error))
    .map((result) => `${isRecord(result.test) ? String(result.test.filename) : '?'}: ${String(result.error)}`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

interface RunOptions {
  readonly cwd: string;
  readonly captureStdout: boolean;
}

/** Spawns without a shell (arguments are never interpolated into a command line); stderr is inherited. */
function run(command: string, args: readonly string[], options: RunOptions): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      stdio: ['inherit', options.captureStdout ? 'pipe' : 'inherit', 'inherit'],
    });
    let stdout = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    const forward = (signal: NodeJS.Signals): void => void child.kill(signal);
    process.on('SIGINT', forward).on('SIGTERM', forward);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      process.off('SIGINT', forward).off('SIGTERM', forward);
      resolve({ code: code ?? 128 + (signal ? constants.signals[signal] : 0), stdout });
    });
  });
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2), process.env);
  const adminToken = options.adminToken ?? (await mintAdminToken());
  console.error(`bruno: running the collection against ${options.host}`);
  return runCollection(options, adminToken);
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`bruno: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(2);
  },
);
