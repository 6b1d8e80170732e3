import type { DomainEvent } from '@trellis/eventstore';
import type { SqliteDatabase } from './database.js';

/** A row of `trellis_events` as SQLite returns it. */
export interface EventRow {
  position: number;
  stream_id: string;
  version: number;
  id: string;
  aggregate_type: string;
  event_type: string;
  schema_version: number;
  payload: string;
  metadata: string;
  created_at: string;
}

/**
 * The event log. `AUTOINCREMENT` (not just the rowid alias) so a position is never reused,
 * even if the newest rows were ever deleted: a reader's checkpoint must stay meaningful.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS trellis_events (
  position INTEGER PRIMARY KEY AUTOINCREMENT,
  stream_id TEXT NOT NULL,
  version INTEGER NOT NULL,
  id TEXT NOT NULL,
  aggregate_type TEXT NOT NULL,
  event_type TEXT NOT NULL,
  schema_version INTEGER NOT NULL,
  payload TEXT NOT NULL,
  metadata TEXT NOT NULL,
  created_at TEXT NOT NULL,
  UNIQUE (stream_id, version)
);
CREATE TABLE IF NOT EXISTS trellis_snapshots (
  stream_id TEXT PRIMARY KEY,
  aggregate_type TEXT NOT NULL,
  version INTEGER NOT NULL,
  schema_version INTEGER NOT NULL,
  state TEXT NOT NULL,
  taken_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS trellis_checkpoints (
  name TEXT PRIMARY KEY,
  position INTEGER NOT NULL,
  updated_at TEXT NOT NULL
);
`;

/** Creates the event, snapshot and checkpoint tables if they do not exist (idempotent). */
export async function migrateEventTables(db: SqliteDatabase): Promise<void> {
  await db.transaction(async () => {
    db.raw.exec(SCHEMA);
  });
}

/** Maps a stored row to a {@link DomainEvent}. */
export function eventFromRow(row: EventRow): DomainEvent {
  return {
    id: row.id,
    aggregateId: row.stream_id,
    aggregateType: row.aggregate_type,
    eventType: row.event_type,
    payload: JSON.parse(row.payload),
    timestamp: new Date(row.created_at),
    version: row.version,
    position: row.position,
    schemaVersion: row.schema_version,
    metadata: JSON.parse(row.metadata),
  };
}
