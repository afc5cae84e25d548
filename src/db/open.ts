// Where the catalog database is: DATABASE_URL as given, or the embedded server started on demand.
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { Secrets } from '../secrets.js';
import { startEmbeddedPostgres } from './embedded.js';
import { serverLogEntry } from './server-log.js';

export interface Database {
  readonly url: string;
  stop(): Promise<void>;
}

export async function openDatabase(config: Config, secrets: Secrets, logger: Logger): Promise<Database> {
  const db = config.database;
  if (db.kind === 'url') return { url: db.url, stop: async () => {} };
  logger.info({ dataDir: db.dataDir, port: db.port }, 'starting embedded PostgreSQL (DATABASE_URL is not set)');
  return startEmbeddedPostgres({
    dataDir: db.dataDir,
    port: db.port,
    superuserPassword: secrets.embeddedPassword ?? '',
    database: 'tenantgate',
    // Never the line itself: it may quote a statement or a tenant's values (see server-log.ts).
    // The server's output arrives in chunks of any number of lines.
    onLog: (chunk) => {
      for (const line of chunk.split('\n')) {
        const entry = serverLogEntry(line);
        if (entry === undefined) continue;
        if ('message' in entry) logger.debug({ postgres: entry }, 'embedded postgres');
        else logger.debug({ postgres: entry }, 'embedded postgres reported a problem (its text is withheld: it may quote tenant data)');
      }
    },
  });
}
