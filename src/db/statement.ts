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
}

/** `tables`: where the tenant's tables are (the row model's shared tables unless told). */
export function renderBound(build: StatementBuilder, tables: TenantTables = SHARED_TABLES): BoundStatement {
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
  return { text, params };
}
