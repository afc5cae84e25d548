// Builds a SQL statement and renders it with bind parameters ($1::type), prepared on every path: values
// never become SQL text. Builders write trusted text (keywords, whitelisted identifiers) and values
// separately, so a value cannot be mistaken for SQL. Tables are named through `table`, rendered as the
// tenant's qualified table (src/db/tenant-tables.ts), so one builder serves every isolation model.
import { SHARED_TABLES, type TenantTable, type TenantTables } from './tenant-tables.js';

export type ParamType = 'text' | 'uuid' | 'bool' | 'int4' | 'timestamptz';
export type ParamValue = string | number | boolean;

export interface SqlWriter {
  /** Trusted SQL text: keywords, whitelisted and pre-quoted identifiers. Never user input. */
  sql(text: string): void;
  value(value: ParamValue, type: ParamType): void;
  /** A tenant table, as the tenant's model names it (qualified). */
  table(name: TenantTable): void;
}

export type StatementBuilder = (w: SqlWriter) => void;

export interface BoundStatement {
  readonly text: string;
  readonly params: ParamValue[];
  /** Runs first, in the statement's transaction, where statements run in one (see `pinnedBy`). */
  readonly pin?: BoundStatement;
}

/**
 * `build`, to be preceded in its transaction by `pin`: a write that matches no row but takes the lock
 * Citus takes for any write to the tenant's shard, and holds it to the end of the transaction. A
 * statement Citus plans as several subplans (an idempotent write: an INSERT … SELECT in a CTE) has the
 * shard's placement fixed for every subplan when it is planned; a move of the shard that finished
 * between planning and a later subplan would let that subplan write to the old, dropped copy (a lost
 * write, seen in test/integration/citus-move.test.ts). With the pin, the move either finished before it
 * (and the statement is planned on the new placement) or waits for the transaction. Only the shared
 * pool's transaction form, which Citus servers use, sends it; elsewhere it is not needed.
 */
export function pinnedBy(build: StatementBuilder, pin: StatementBuilder): StatementBuilder {
  return Object.assign((w: SqlWriter) => build(w), { pin });
}

/** `tables`: where the tenant's tables are (the row model's shared tables unless told). */
export function renderBound(build: StatementBuilder, tables: TenantTables = SHARED_TABLES): BoundStatement {
  const pin = (build as { pin?: StatementBuilder }).pin;
  let text = '';
  const params: ParamValue[] = [];
  build({
    sql: (s) => {
      text += s;
    },
    value: (v, type) => {
      params.push(v);
      // Timestamps travel as text: typed timestamptz parameters go through a JS Date in the driver and
      // lose their microseconds.
      text += type === 'timestamptz' ? `$${params.length}::text::timestamptz` : `$${params.length}::${type}`;
    },
    table: (name) => {
      text += tables[name];
    },
  });
  return pin === undefined ? { text, params } : { text, params, pin: renderBound(pin, tables) };
}
