/**
 * Opens every service's database of a running (or stopped) shop straight from its topology:
 * SQLite files in embedded mode, PostgreSQL databases in distributed mode. The invariant
 * checker reads the facts there, not through the services' APIs, so it sees what is really
 * stored — including what a service would never show.
 */
import type { SqlDatabase } from '@trellis/core';
import { PostgresDatabase } from '@trellis/postgres';
import { SqliteDatabase } from '@trellis/sqlite';
import { BACKEND_SERVICES, type BackendService } from '../registry.js';
import type { Topology } from '../supervisor/topology.js';

/** One database per service. */
export type ShopDatabases = Record<BackendService, SqlDatabase> & { close(): Promise<void> };

/** Opens the databases named in `topology`. */
export function openShopDatabases(topology: Pick<Topology, 'databases'>): ShopDatabases {
  const dbs = {} as Record<BackendService, SqlDatabase>;
  for (const service of BACKEND_SERVICES) {
    const location = topology.databases[service];
    if (!location) throw new Error(`The topology names no database for ${service}`);
    dbs[service] =
      location.kind === 'sqlite'
        ? SqliteDatabase.open(location.file)
        : PostgresDatabase.connect(location.url, { max: 2, applicationName: 'shop-invariants' });
  }
  return Object.assign(dbs, {
    async close() {
      await Promise.allSettled(BACKEND_SERVICES.map((s) => dbs[s].close()));
    },
  });
}

/** Rows of `sql`, or `[]` when its table does not exist (a service that never wrote any). */
export async function rowsOrNone<R>(db: SqlDatabase, sql: string, params: unknown[] = []): Promise<R[]> {
  try {
    return await db.query<R>(sql, params);
  } catch (error) {
    if (/no such table|does not exist/i.test((error as Error).message)) return [];
    throw error;
  }
}
