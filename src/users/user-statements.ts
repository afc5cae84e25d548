// The statements on one user, by id: read, update, delete. Same rules as src/users/queries.ts: each names
// its tenant (`tenant_id = $n`) and checks the session's scope (public.tenantgate_check_scope($n), a
// one-time filter), so a stale scope on the shared pool raises TG001 and is re-scoped instead of
// answering 404; RLS confines the rows as well, under both isolation models (`users` is the shared
// table or the tenant schema's own, named by w.table). Another tenant's id matches no row.
import type { SqlWriter, StatementBuilder } from '../db/statement.js';
import { USER_COLUMNS, type TenantScope } from './queries.js';
import type { UpdateUserInput } from './update-input.js';

export function getUserStatement(scope: TenantScope, userId: string): StatementBuilder {
  return (w) => {
    w.sql(`SELECT ${USER_COLUMNS} FROM `);
    w.table('users');
    whereUser(w, scope, userId);
  };
}

/** Only the fields given are set; the trigger moves updated_at (and keeps created_at and the tenant). */
export function updateUserStatement(scope: TenantScope, userId: string, input: UpdateUserInput): StatementBuilder {
  const write = updateUserWrite(scope, userId, input);
  return (w) => write(w, undefined);
}

/** The update, run only where `guard` (trusted SQL, for an idempotent write) holds. */
export function updateUserWrite(scope: TenantScope, userId: string, input: UpdateUserInput): (w: SqlWriter, guard: string | undefined) => void {
  return (w, guard) => {
    w.sql('UPDATE ');
    w.table('users');
    w.sql(' SET ');
    let first = true;
    const set = (column: string, value: string | boolean, type: 'text' | 'bool'): void => {
      w.sql(`${first ? '' : ', '}${column} = `);
      w.value(value, type);
      first = false;
    };
    if (input.firstName !== undefined) set('first_name', input.firstName, 'text');
    if (input.lastName !== undefined) set('last_name', input.lastName, 'text');
    if (input.confirmed !== undefined) set('confirmed', input.confirmed, 'bool');
    if (first) throw new Error('an update sets at least one column');
    whereUser(w, scope, userId);
    if (guard !== undefined) w.sql(` AND ${guard}`);
    w.sql(` RETURNING ${USER_COLUMNS}`);
  };
}

/**
 * createUserStatement (src/users/queries.ts) as a guarded write: the row only where `guard` holds. The
 * trigger still takes the tenant from the scope and checks it against this one.
 */
export function createUserWrite(scope: TenantScope, input: { firstName: string; lastName: string }): (w: SqlWriter, guard: string) => void {
  return (w, guard) => {
    w.sql('INSERT INTO ');
    w.table('users');
    w.sql(' (tenant_id, first_name, last_name) SELECT ');
    w.value(scope.tenantId, 'uuid');
    w.sql(', ');
    w.value(input.firstName, 'text');
    w.sql(', ');
    w.value(input.lastName, 'text');
    w.sql(` WHERE ${guard} RETURNING ${USER_COLUMNS}`);
  };
}

export function deleteUserStatement(scope: TenantScope, userId: string): StatementBuilder {
  return (w) => {
    w.sql('DELETE FROM ');
    w.table('users');
    whereUser(w, scope, userId);
    w.sql(' RETURNING id');
  };
}

function whereUser(w: SqlWriter, scope: TenantScope, userId: string): void {
  w.sql(' WHERE tenant_id = ');
  w.value(scope.tenantId, 'uuid');
  if (scope.checkContext) {
    w.sql(' AND public.tenantgate_check_scope(');
    w.value(scope.tenantId, 'uuid');
    w.sql(')');
  }
  w.sql(' AND id = ');
  w.value(userId, 'uuid');
}
