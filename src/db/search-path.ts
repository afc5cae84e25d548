// The search_path of a tenant schema, the one place it is written: the schema's quoted name, then
// pg_temp. Named last, pg_temp is searched last, so no temporary table can shadow a tenant's table
// (PostgreSQL searches it first when it is left out); public is left out, so nothing there can either.
import { quoteIdentifier } from './quote.js';

const SCHEMA_NAME = /^s_[0-9a-f]{32}$/;

export function schemaSearchPath(schema: string): string {
  if (!SCHEMA_NAME.test(schema)) throw new RangeError('not a tenant schema name');
  return `${quoteIdentifier(schema)}, pg_temp`;
}
