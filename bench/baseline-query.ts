// The gateway's users statements, re-targeted for the baseline: the same builders from
// src/users/queries.ts, with an explicit tenant filter added where the gateway relies on RLS and the
// tenant role. Decorating the builders (rather than copying their SQL) keeps the baseline on the very
// query the gateway runs, whatever list parameters are given.
import type { SqlWriter, StatementBuilder } from '../src/db/statement.js';
import { renderBound } from '../src/db/statement.js';
import { createUserStatement, listUsersStatement } from '../src/users/queries.js';
import { parseListParams } from '../src/users/list-params.js';

const FROM_USERS = ' FROM users';
const INSERT_USERS = 'INSERT INTO users (first_name, last_name) VALUES (';

/**
 * `… FROM users` becomes `… FROM users WHERE tenant_id = $n`, and the builder's own ` WHERE ` that may
 * follow becomes ` AND `; an INSERT gains the tenant_id column. Everything else passes through.
 */
export function scopedToTenant(build: StatementBuilder, tenantId: string): StatementBuilder {
  return (w) => {
    let filtered = false;
    const scoped: SqlWriter = {
      sql(text) {
        const widen = filtered && text === ' WHERE ';
        filtered = false;
        if (widen) {
          w.sql(' AND ');
        } else if (text.endsWith(FROM_USERS)) {
          w.sql(`${text} WHERE tenant_id = `);
          w.value(tenantId, 'uuid');
          filtered = true;
        } else if (text === INSERT_USERS) {
          w.sql('INSERT INTO users (tenant_id, first_name, last_name) VALUES (');
          w.value(tenantId, 'uuid');
          w.sql(', ');
        } else {
          w.sql(text);
        }
      },
      value(value, type) {
        filtered = false;
        w.value(value, type);
      },
    };
    build(scoped);
  };
}

/**
 * Proves at start-up that the decoration still fits queries.ts: one tenant filter in a list query (its
 * single scan), one tenant column in an insert. If queries.ts changes shape, the baseline refuses to
 * start instead of measuring a different query (or every tenant's rows).
 */
export function assertScopingFits(): void {
  const tenant = '00000000-0000-4000-8000-000000000000';
  const list = renderBound(
    scopedToTenant(listUsersStatement(parseListParams(new URLSearchParams('search=x&confirmed=true'))), tenant),
  ).text;
  const filters = list.split('WHERE tenant_id = $').length - 1;
  const bareWhere = list.split(' WHERE ').length - 1;
  const insert = renderBound(scopedToTenant(createUserStatement({ firstName: 'a', lastName: 'b' }), tenant)).text;
  if (filters !== 1 || bareWhere !== 1 || !insert.startsWith('INSERT INTO users (tenant_id, first_name, last_name)')) {
    throw new Error(`baseline: src/users/queries.ts changed shape; adapt bench/baseline-query.ts\n${list}\n${insert}`);
  }
}
