// Command-line options of `npm run bench`, parsed and checked once.
import { parseArgs } from 'node:util';

export const SCENARIO_KEYS = ['a', 'b', 'c', 'd', 'e'] as const;
export type ScenarioKey = (typeof SCENARIO_KEYS)[number];

export interface BenchOptions {
  readonly scenarios: readonly ScenarioKey[];
  /** Seconds of measured load per server and scenario. */
  readonly durationSeconds: number;
  readonly connections: number;
  /** Seconds of discarded load before each measured run. */
  readonly warmupSeconds: number;
  /** Rewrite the results table in bench/README.md (off for quick debugging runs). */
  readonly updateReadme: boolean;
}

export const USAGE = `usage: npm run bench -- [--scenario a|b|c|d|e|all|a,c] [--duration SECONDS] [--connections N]
                       [--warmup SECONDS] [--no-readme]`;

export function parseOptions(argv: readonly string[]): BenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      scenario: { type: 'string', default: 'all' },
      duration: { type: 'string', default: '10' },
      connections: { type: 'string', default: '50' },
      warmup: { type: 'string', default: '3' },
      'no-readme': { type: 'boolean', default: false },
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
  };
}

export class UsageError extends Error {}

function parseScenarios(text: string): ScenarioKey[] {
  if (text === 'all') return [...SCENARIO_KEYS];
  const keys = text.split(',').map((s) => s.trim().toLowerCase());
  for (const key of keys) {
    if (!(SCENARIO_KEYS as readonly string[]).includes(key)) {
      throw new UsageError(`--scenario must be one of ${SCENARIO_KEYS.join(', ')} or all (got "${key}")`);
    }
  }
  return [...new Set(keys)] as ScenarioKey[];
}

function count(name: string, text: string, min: number, max: number): number {
  if (!/^\d{1,6}$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new UsageError(`${name} must be an integer from ${min} to ${max} (got "${text}")`);
  }
  return Number(text);
}
