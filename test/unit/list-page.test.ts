// Results with empty slots (postgres.js's row count left over from a session that died mid-result) are
// compacted: the rows present are the statement's own. An INSERT that resolves with no row is a 503.
import type { Row } from 'postgres';
import { describe, expect, it } from 'vitest';
import { Unavailable } from '../../src/errors.js';
import { createUserBody, listUsersPage } from '../../src/users/list-page.js';
import { parseListParams } from '../../src/users/list-params.js';

const scope = { tenantId: '00000000-0000-4000-8000-000000000001', checkContext: true };
const user = (first: string): Row =>
  ({
    id: '00000000-0000-4000-8000-0000000000aa',
    first_name: first,
    last_name: 'L',
    confirmed: false,
    created_at: '2026-11-24 17:22:53.1821+00',
    updated_at: '2026-11-24 17:22:53.1821+00',
    total: 2,
  }) as Row;
const holey = (rows: Row[], offset: number): Row[] => {
  const result: Row[] = [];
  rows.forEach((r, i) => (result[offset + i] = r));
  return result;
};

describe('createUserBody', () => {
  it('answers the row even when the driver put it after empty slots', async () => {
    const body = JSON.parse(await createUserBody(async () => holey([user('Ada')], 15), scope, { firstName: 'Ada', lastName: 'L' }));
    expect(body).toMatchObject({ first_name: 'Ada' });
  });

  it('a result without a row is a 503 write_unconfirmed, never a TypeError', async () => {
    const p = createUserBody(async () => [], scope, { firstName: 'Ada', lastName: 'L' });
    await expect(p).rejects.toBeInstanceOf(Unavailable);
    await expect(p).rejects.toMatchObject({ code: 'write_unconfirmed', status: 503 });
  });
});

describe('listUsersPage', () => {
  it('a page from a result with empty slots has no null records and the right total', async () => {
    const body = JSON.parse(await listUsersPage(async () => holey([user('A'), user('B')], 4), scope, parseListParams(new URLSearchParams('page_size=10')))) as {
      records: unknown[];
      total: number;
    };
    expect(body.records.map((r) => (r as { first_name: string }).first_name)).toEqual(['A', 'B']);
    expect(body.total).toBe(2);
  });
});
