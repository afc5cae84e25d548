// Structured JSON logs (pino). Callers log facts about requests and tenants, never secrets: errors are
// reduced to name/code/message because driver errors carry query text and parameters. In a terminal the
// same records are shown readable (pino-pretty); piped or collected, they stay one JSON object a line.
import { pino, type DestinationStream, type Logger } from 'pino';
import { build as prettyStream } from 'pino-pretty';

export type { Logger };

/** Logs to `destination`, or to stdout asynchronously (a log line must not stall the request path). */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino({ level, base: { service: 'tenantgate' } }, destination ?? pino.destination({ sync: false }));
}

/** Readable lines for a person at a terminal; synchronous, so nothing is lost at exit. */
export function terminalDestination(): DestinationStream {
  return prettyStream({ colorize: true, sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service' });
}

export function errorFacts(err: unknown): { name: string; code?: string; causeCode?: string; message: string } {
  if (err instanceof Error) {
    const { code, causeCode } = err as { code?: unknown; causeCode?: unknown };
    return {
      name: err.name,
      ...(typeof code === 'string' ? { code } : {}),
      // What the database or driver said, behind a translated error (e.g. 57P01 behind database_unavailable).
      ...(typeof causeCode === 'string' ? { causeCode } : {}),
      message: err.message,
    };
  }
  return { name: 'NonError', message: String(err) };
}
