// Quoting: identifiers from whitelists (sort and filter columns), and literals for the one place SQL
// text carries a value, the shared pool's `SET tenantgate.tenant_id` (a utility statement takes no
// bind parameter), whose value is a tenant id from the catalog. Literals are escaped so that no input
// can end them, whatever standard_conforming_strings says.

export function quoteIdentifier(name: string): string {
  if (name.length === 0 || name.includes('\0')) throw new RangeError('not a valid SQL identifier');
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * An E'' literal: backslashes and quotes doubled, so the meaning does not depend on
 * standard_conforming_strings. NUL is refused (PostgreSQL text cannot hold it, and the parsers
 * upstream reject it). Safe because connections speak UTF-8, where no multibyte character contains
 * the bytes of ' or \ (the classic injection through GBK/SJIS is impossible).
 */
export function quoteLiteral(value: string): string {
  if (value.includes('\0')) throw new RangeError('a SQL literal cannot contain NUL');
  return `E'${value.replaceAll('\\', '\\\\').replaceAll("'", "''")}'`;
}

/**
 * A libpq connection-string value ('…', backslash and quote escaped), for Citus' pg_dist_authinfo,
 * which holds `password=<value>` as conninfo text. NUL is refused, as for a literal.
 */
export function quoteConninfoValue(value: string): string {
  if (value.includes('\0')) throw new RangeError('a connection-string value cannot contain NUL');
  return `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}
