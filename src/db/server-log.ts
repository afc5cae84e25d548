// Which lines of the embedded server's own output the gateway may repeat in its log. PostgreSQL's log
// carries statement text (STATEMENT:, "execute …:", "duration: … statement:"), bind values
// ("parameters: $1 = …", "Key (name)=(…)") and error messages that quote input, any of which can hold
// a tenant's data. So only the server's lifecycle messages are repeated; of warnings and errors only
// the severity; everything else not at all.

export type ServerLogEntry = { readonly severity: string; readonly message: string } | { readonly severity: string; readonly withheld: true };

const LINE = /\b(DEBUG[1-5]?|LOG|INFO|NOTICE|WARNING|ERROR|FATAL|PANIC|DETAIL|HINT|STATEMENT|CONTEXT|QUERY|LOCATION):\s+(.*)$/;

// Messages the postmaster and its checkpointer emit about the server itself; none quotes a statement.
const LIFECYCLE: readonly RegExp[] = [
  /^starting PostgreSQL [\w.]+ on /,
  /^listening on (IPv4|IPv6|Unix) /,
  /^database system (is ready to accept connections|is shut down|was shut down at|was interrupted|is starting up|is shutting down)/,
  /^received (smart|fast|immediate) shutdown request$/,
  /^aborting any active transactions$/,
  /^background worker "[\w ]+" \(PID \d+\) exited with exit code \d+$/,
  /^shutting down$/,
  /^checkpoint (starting|complete)\b/,
  /^redo (starts|done) at /,
  /^all server processes terminated; reinitializing$/,
  /^terminating any other active server processes$/,
  /^could not bind IPv[46] address /,
];

const REPORTED_BY_SEVERITY = new Set(['WARNING', 'ERROR', 'FATAL', 'PANIC']);

/** What of one line of the server's output may be logged; undefined: nothing. */
export function serverLogEntry(line: string): ServerLogEntry | undefined {
  const match = LINE.exec(line);
  if (!match) return undefined;
  const severity = match[1] ?? '';
  const message = (match[2] ?? '').trim();
  if ((severity === 'LOG' || severity === 'FATAL' || severity === 'PANIC') && LIFECYCLE.some((p) => p.test(message))) {
    return { severity, message };
  }
  return REPORTED_BY_SEVERITY.has(severity) ? { severity, withheld: true } : undefined;
}
