// Builds a SQL statement and renders it with bind parameters ($1::type), prepared on every path: values
// never become SQL text. Builders write trusted text (keywords, whitelisted identifiers) and values
// separately, so a value cannot be mistaken for SQL.

export type ParamType = 'text' | 'uuid' | 'bool' | 'int4' | 'timestamptz';
export type ParamValue = string | number | boolean;

export interface SqlWriter {
  /** Trusted SQL text: keywords, whitelisted and pre-quoted identifiers. Never user input. */
  sql(text: string): void;
  value(value: ParamValue, type: ParamType): void;
}

export type StatementBuilder = (w: SqlWriter) => void;

export interface BoundStatement {
  readonly text: string;
  readonly params: ParamValue[];
}

export function renderBound(build: StatementBuilder): BoundStatement {
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
  });
  return { text, params };
}
