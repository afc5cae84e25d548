// Every so often, on every server, finishes the moves whose mover is gone (src/move/dead-movers.ts), so a
// gateway that stopped mid-move leaves its tenant neither fenced nor half-removed for longer than this
// interval. Safe on every instance at once: each move is taken under its advisory lock.
import type { Sql } from 'postgres';
import type { IsolationModels } from '../isolation/models.js';
import { errorFacts, type Logger } from '../log.js';
import { finishDeadMoves } from '../move/dead-movers.js';
import { MAIN_SERVER } from './catalog.js';
import type { ServerConnections } from './connections.js';

export interface MoveSweeper {
  /** One pass over every server (the timer's; tests call it directly). */
  sweep(): Promise<void>;
  stop(): void;
}

export function startMoveSweeper(
  catalog: Sql,
  servers: ServerConnections,
  models: IsolationModels,
  options: { intervalMs: number; logger: Logger },
): MoveSweeper {
  let running: Promise<void> | undefined;
  const pass = async (): Promise<void> => {
    const names = (await catalog<{ name: string }[]>`SELECT name FROM servers ORDER BY name`).map((r) => r.name);
    for (const name of names) {
      try {
        const sql = await servers.admin(name);
        for (const done of await finishDeadMoves(catalog, { name, sql, hostsCatalog: name === MAIN_SERVER }, models)) {
          options.logger.warn({ tenantId: done.tenantId, server: name, outcome: done.outcome }, 'finished a move whose mover had stopped');
        }
      } catch (err) {
        // A server that is down is swept on a later pass.
        options.logger.debug({ server: name, err: errorFacts(err) }, 'could not look for stopped moves on a server');
      }
    }
  };
  const sweep = (): Promise<void> => {
    running ??= pass()
      .catch((err: unknown) => options.logger.debug({ err: errorFacts(err) }, 'could not look for stopped moves'))
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  const timer = setInterval(() => void sweep(), options.intervalMs);
  timer.unref();
  return {
    sweep,
    stop: () => clearInterval(timer),
  };
}
