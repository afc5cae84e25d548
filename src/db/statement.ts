// Builds a SQL statement once and renders it two ways: with bind parameters ($1::type, for prepared
// statements on a tenant's dedicated pool) or with the values inlined as escaped literals (for the
// shared pool's single simple-protocol message, which takes no parameters). One builder means the two
// paths can never drift apart.
import { quoteLiteral } from './quote.js';

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

export function renderInline(build: StatementBuilder): string {
  let text = '';
  build({
    sql: (s) => {
      text += s;
    },
    value: (v, type) => {
      text += inlineValue(v, type);
    },
  });
  return text;
}

function inlineValue(v: ParamValue, type: ParamType): string {
  switch (type) {
    case 'bool':
      if (typeof v !== 'boolean') throw new TypeError('a bool value must be a boolean');
      return v ? 'TRUE' : 'FALSE';
    case 'int4':
      if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new TypeError('an int4 value must be an integer');
      return `${v}::int4`;
    default:
      return `${quoteLiteral(String(v))}::${type}`;
  }
}
