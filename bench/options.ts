// Command-line options of `npm run bench`, parsed and checked once.
import { parseArgs } from 'node:util';

/** What `all` (and `npm run bench`) runs: the row-model scenarios. */
export const DEFAULT_SCENARIO_KEYS = ['a', 'b', 'c', 'd', 'e', 'f1', 'f2', 'f3'] as const;
/** c and d served to schema tenants (the gateway) and their row-model twins (the baseline). */
export const SCHEMA_SCENARIO_KEYS = ['c1s', 'cs', 'ds'] as const;
/** c over two servers (bench/second-server.ts): the gateway and the baseline each use both. */
export const SERVERS_SCENARIO_KEYS = ['c2'] as const;
/** c and d with the catalog on a 3-node Citus cluster (bench/citus.ts): run on their own, not with the others. */
export const CITUS_SCENARIO_KEYS = ['cc', 'dc'] as const;
export const SCENARIO_KEYS = [...DEFAULT_SCENARIO_KEYS, ...SCHEMA_SCENARIO_KEYS, ...SERVERS_SCENARIO_KEYS, ...CITUS_SCENARIO_KEYS] as const;
export type ScenarioKey = (typeof SCENARIO_KEYS)[number];
export type DefaultScenarioKey = (typeof DEFAULT_SCENARIO_KEYS)[number];
export type SchemaScenarioKey = (typeof SCHEMA_SCENARIO_KEYS)[number];
export type ServersScenarioKey = (typeof SERVERS_SCENARIO_KEYS)[number];
export type CitusScenarioKey = (typeof CITUS_SCENARIO_KEYS)[number];
/** Names that stand for several scenarios on the command line. */
const SCENARIO_GROUPS: ReadonlyMap<string, readonly ScenarioKey[]> = new Map<string, readonly ScenarioKey[]>([
  ['f', ['f1', 'f2', 'f3']],
  ['schema', SCHEMA_SCENARIO_KEYS],
  ['citus', CITUS_SCENARIO_KEYS],
]);

export function isSchemaScenario(key: ScenarioKey): key is SchemaScenarioKey {
  return (SCHEMA_SCENARIO_KEYS as readonly string[]).includes(key);
}

export function isServersScenario(key: ScenarioKey): key is ServersScenarioKey {
  return (SERVERS_SCENARIO_KEYS as readonly string[]).includes(key);
}

export function isCitusScenario(key: ScenarioKey): key is CitusScenarioKey {
  return (CITUS_SCENARIO_KEYS as readonly string[]).includes(key);
}

export interface BenchOptions {
  readonly scenarios: readonly ScenarioKey[];
  /** Seconds of measured load per server and scenario. */
  readonly durationSeconds: number;
  readonly connections: number;
  /** Seconds of discarded load before each measured run. */
  readonly warmupSeconds: number;
  /** Rewrite the results table in bench/README.md (off for quick debugging runs). */
  readonly updateReadme: boolean;
  /** Extra gateway settings for experiments (`--gateway-env POOL_MAX=10`); recorded with the results. */
  readonly gatewayEnv: Readonly<Record<string, string>>;
  /** Write a CPU profile of each gateway run into this directory (node --cpu-prof). */
  readonly profileDir: string | undefined;
}

export const USAGE = `usage: npm run bench -- [--scenario a|b|c|d|e|f|f1|f2|f3|all|c1s|cs|ds|schema|c2|cc|dc|citus|a,c] [--duration SECONDS] [--connections N]
                       [--warmup SECONDS] [--no-readme] [--gateway-env NAME=VALUE ...] [--profile DIR]`;

export function parseOptions(argv: readonly string[]): BenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      scenario: { type: 'string', default: 'all' },
      duration: { type: 'string', default: '10' },
      connections: { type: 'string', default: '50' },
      warmup: { type: 'string', default: '3' },
      'no-readme': { type: 'boolean', default: false },
      'gateway-env': { type: 'string', multiple: true, default: [] },
      profile: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) throw new UsageError('');
  return {
    scenarios: parseScenarios(values.scenario),
    durationSeconds: count('--duration', values.duration, 1, 600),
    connections: count('--connections', values.connections, 1, 1000),
    warmupSeconds: count('--warmup', values.warmup, 0, 120),
    updateReadme: !values['no-readme'],
    gatewayEnv: parseEnvPairs(values['gateway-env']),
    profileDir: values.profile,
  };
}

export class UsageError extends Error {}

function parseScenarios(text: string): ScenarioKey[] {
  if (text === 'all') return [...DEFAULT_SCENARIO_KEYS];
  const keys: ScenarioKey[] = [];
  for (const key of text.split(',').map((s) => s.trim().toLowerCase())) {
    const group = SCENARIO_GROUPS.get(key);
    if (group) keys.push(...group);
    else if ((SCENARIO_KEYS as readonly string[]).includes(key)) keys.push(key as ScenarioKey);
    else {
      throw new UsageError(
        `--scenario must be one of ${SCENARIO_KEYS.join(', ')}, f (= f1,f2,f3), schema (= ${SCHEMA_SCENARIO_KEYS.join(',')}), citus (= ${CITUS_SCENARIO_KEYS.join(',')}) or all (= ${DEFAULT_SCENARIO_KEYS.join(',')}) (got "${key}")`,
      );
    }
  }
  // The Citus scenarios run against another database (the cluster's coordinator) than the others.
  if (keys.some(isCitusScenario) && !keys.every(isCitusScenario)) {
    throw new UsageError(`--scenario: the Citus scenarios (${CITUS_SCENARIO_KEYS.join(', ')}) run on their own cluster; run them apart from the others`);
  }
  return [...new Set(keys)];
}

// Secrets and the database are the bench's to set; everything else (budgets, pools, limits) may vary.
const RESERVED_ENV = new Set(['DATABASE_URL', 'CREDENTIALS_KEY', 'ADMIN_JWT_SECRET', 'PORT', 'HOST']);

function parseEnvPairs(pairs: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of pairs) {
    const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(pair);
    if (!match || RESERVED_ENV.has(match[1] as string)) {
      throw new UsageError(`--gateway-env takes NAME=VALUE for a gateway setting other than ${[...RESERVED_ENV].join(', ')} (got "${pair}")`);
    }
    env[match[1] as string] = match[2] as string;
  }
  return env;
}

function count(name: string, text: string, min: number, max: number): number {
  if (!/^\d{1,6}$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new UsageError(`${name} must be an integer from ${min} to ${max} (got "${text}")`);
  }
  return Number(text);
}
