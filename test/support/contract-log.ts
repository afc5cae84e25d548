// One contract per trust configuration for a test file, and a tally of what it checked: after the file,
// a line per file goes to the run's log (global-setup.ts sums it up at the end of the run).
import { appendFileSync } from 'node:fs';
import { afterAll, inject } from 'vitest';
import { buildApiDocument, type DocumentOptions } from '../../src/openapi/document.js';
import { createContract, type Contract } from './contract.js';

const contracts = new Map<string, Contract>();

export function contractFor(authMode: DocumentOptions['authMode'], tenantFrom: DocumentOptions['tenantFrom']): Contract {
  const key = `${authMode}/${tenantFrom}`;
  let contract = contracts.get(key);
  if (contract === undefined) {
    contract = createContract(buildApiDocument({ authMode, tenantFrom }) as Record<string, unknown>);
    contracts.set(key, contract);
  }
  return contract;
}

/** Everything checked in this file so far, over all configurations. */
export function contractTally(): { count: number; answers: Set<string> } {
  const answers = new Set<string>();
  let count = 0;
  for (const c of contracts.values()) {
    count += c.checked.count;
    for (const a of c.checked.answers) answers.add(a);
  }
  return { count, answers };
}

afterAll(() => {
  const log = inject('contractLog');
  const { count, answers } = contractTally();
  if (log !== undefined && count > 0) appendFileSync(log, `${JSON.stringify({ count, answers: [...answers] })}\n`);
});
