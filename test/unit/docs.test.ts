// The README's configuration table and .env.example name exactly the variables src/config.ts reads.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url);
const read = (path: string): string => readFileSync(new URL(path, root), 'utf8');

const configVariables = new Set([...read('src/config.ts').matchAll(/\(env, '([A-Z_]+)'/g)].map((m) => m[1] as string));
const readmeTable = read('README.md').split('## Configuration')[1]?.split('\n## ')[0] ?? '';
const readmeVariables = new Set(
  [...readmeTable.matchAll(/^\| `([A-Z_]+)`(?:, `([A-Z_]+)`)?/gm)].flatMap((m) => [m[1], m[2]]).filter((v): v is string => v !== undefined),
);
const exampleVariables = new Set([...read('.env.example').matchAll(/^#? ?([A-Z_]+)=/gm)].map((m) => m[1] as string));

describe('configuration documentation', () => {
  it('finds the variables at all', () => {
    expect(configVariables.size).toBeGreaterThan(20);
  });

  it.each([...configVariables])('%s is in the README configuration table', (name) => {
    expect(readmeVariables.has(name)).toBe(true);
  });

  it.each([...configVariables])('%s is in .env.example', (name) => {
    expect(exampleVariables.has(name)).toBe(true);
  });

  it('documents no variable the gateway does not read (TEST_DATABASE_URL aside)', () => {
    const extra = [...readmeVariables, ...exampleVariables].filter((v) => !configVariables.has(v) && v !== 'TEST_DATABASE_URL');
    expect(extra).toEqual([]);
  });
});
