/**
 * A fingerprint of everything a running shop has stored: every table of every service's
 * database, the assistant's and (embedded mode) the bus file, as a row count and a hash of
 * all rows per table. Two snapshots around a batch of refused requests must be equal: that is
 * "nothing was written", checked on the storage itself rather than through the API.
 */
import { createHash } from 'node:crypto';
import type { SqlDatabase } from '@trellis/core';
import { PostgresDatabase } from '@trellis/postgres';
import { SqliteDatabase } from '@trellis/sqlite';
import type { Topology } from '../supervisor/topology.js';

/**
 * Tables that change by themselves, without any request: the outbox relay's lease is a
 * heartbeat (owner and expiry renewed every few hundred milliseconds), not data.
 */
export const HEARTBEAT_TABLES: readonly string[] = ['trellis_outbox_lease'];

/** Row count and content hash of one table. */
export interface TableState {
  rows: number;
  hash: string;
}

/** `<database>.<table>` → state. */
export type StateSnapshot = Record<string, TableState>;

/** Every database of a topology, by name (`users`, …, `assistant`, `bus`). */
export function databasesOf(topology: Topology): Record<string, SqlDatabase> {
  const out: Record<string, SqlDatabase> = {};
  for (const [name, location] of Object.entries(topology.databases)) {
    out[name] =
      location.kind === 'sqlite'
        ? SqliteDatabase.open(location.file)
        : PostgresDatabase.connect(location.url, { max: 1, applicationName: 'shop-security-snapshot' });
  }
  if (topology.bus.kind === 'sqlite') out.bus = SqliteDatabase.open(topology.bus.file);
  return out;
}

async function tablesOf(db: SqlDatabase): Promise<string[]> {
  const rows =
    db.dialect === 'sqlite'
      ? await db.query<{ name: string }>(
          "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )
      : await db.query<{ name: string }>(
          "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name",
        );
  return rows.map((r) => r.name);
}

async function tableState(db: SqlDatabase, table: string): Promise<TableState> {
  const quoted = `"${table.replace(/"/g, '""')}"`;
  if (db.dialect === 'postgres') {
    const [row] = await db.query<{ n: number | string; h: string | null }>(
      `SELECT count(*) AS n, md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) AS h FROM ${quoted} t`,
    );
    return { rows: Number(row?.n ?? 0), hash: row?.h ?? '' };
  }
  const rows = await db.query<Record<string, unknown>>(`SELECT * FROM ${quoted}`);
  const lines = rows
    .map((r) => JSON.stringify(r, (_k, v: unknown) => (Buffer.isBuffer(v) ? v.toString('base64') : v)))
    .sort();
  return { rows: rows.length, hash: createHash('sha256').update(lines.join('\n')).digest('hex') };
}

/** Takes a snapshot of every table of every database. */
export async function snapshot(dbs: Record<string, SqlDatabase>): Promise<StateSnapshot> {
  const out: StateSnapshot = {};
  for (const [name, db] of Object.entries(dbs)) {
    for (const table of await tablesOf(db)) {
      if (HEARTBEAT_TABLES.includes(table)) continue;
      out[`${name}.${table}`] = await tableState(db, table);
    }
  }
  return out;
}

/** Tables whose rows differ between two snapshots (added, removed or changed), with counts. */
export function diffSnapshots(before: StateSnapshot, after: StateSnapshot): string[] {
  const names = new Set([...Object.keys(before), ...Object.keys(after)]);
  const out: string[] = [];
  for (const name of [...names].sort()) {
    const a = before[name];
    const b = after[name];
    if (!a) out.push(`${name}: new table (${b?.rows} rows)`);
    else if (!b) out.push(`${name}: table gone (had ${a.rows} rows)`);
    else if (a.hash !== b.hash) out.push(`${name}: ${a.rows} → ${b.rows} rows, contents changed`);
  }
  return out;
}

/**
 * Snapshots until two in a row, half a second apart, agree: the bus, sagas and projections
 * have caught up. Gives up after `maxMs` and returns the last snapshot.
 */
export async function settled(dbs: Record<string, SqlDatabase>, maxMs = 60_000): Promise<StateSnapshot> {
  const deadline = Date.now() + maxMs;
  let previous = await snapshot(dbs);
  for (;;) {
    await new Promise((r) => setTimeout(r, 500));
    const current = await snapshot(dbs);
    if (diffSnapshots(previous, current).length === 0 || Date.now() > deadline) return current;
    previous = current;
  }
}

/** Row count changes of the tables that differ between two snapshots. */
export function rowDeltas(before: StateSnapshot, after: StateSnapshot): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of diffSnapshots(before, after).map((d) => d.slice(0, d.indexOf(':'))))
    out[name] = (after[name]?.rows ?? 0) - (before[name]?.rows ?? 0);
  return out;
}

/** Closes what {@link databasesOf} opened. */
export async function closeAll(dbs: Record<string, SqlDatabase>): Promise<void> {
  await Promise.allSettled(Object.values(dbs).map((db) => db.close()));
}
