import type { SqlTransaction } from '@trellis/core';
import type { ReadOptions, Snapshot, SnapshotStore } from '@trellis/eventstore';
import type { PostgresDatabase } from './database.js';
import { migrateEventTables } from './event-schema.js';

interface SnapshotRow {
  stream_id: string;
  aggregate_type: string;
  version: number | string;
  schema_version: number;
  state: unknown;
  taken_at: Date;
}

/** Aggregate snapshots in `trellis_snapshots` (state as jsonb). */
export class PostgresSnapshotStore implements SnapshotStore<SqlTransaction> {
  private constructor(private readonly db: PostgresDatabase) {}

  /** Creates the tables if needed (idempotent). */
  static async create(db: PostgresDatabase): Promise<PostgresSnapshotStore> {
    await migrateEventTables(db);
    return new PostgresSnapshotStore(db);
  }

  async load(streamId: string, options: ReadOptions = {}): Promise<Snapshot | undefined> {
    const [row] = await (options.tx ?? this.db).query<SnapshotRow>(
      'SELECT * FROM trellis_snapshots WHERE stream_id = $1',
      [streamId],
    );
    if (!row) return undefined;
    return {
      streamId: row.stream_id,
      aggregateType: row.aggregate_type,
      version: Number(row.version),
      schemaVersion: row.schema_version,
      state: row.state,
      takenAt: row.taken_at,
    };
  }

  async save(s: Snapshot, options: ReadOptions = {}): Promise<void> {
    // Never overwrite a newer snapshot of the same shape (two loaders racing to refresh it).
    await (options.tx ?? this.db).execute(
      `INSERT INTO trellis_snapshots (stream_id, aggregate_type, version, schema_version, state, taken_at)
       VALUES ($1, $2, $3, $4, $5::jsonb, $6)
       ON CONFLICT (stream_id) DO UPDATE SET aggregate_type = excluded.aggregate_type, version = excluded.version,
         schema_version = excluded.schema_version, state = excluded.state, taken_at = excluded.taken_at
       WHERE excluded.version >= trellis_snapshots.version OR excluded.schema_version <> trellis_snapshots.schema_version`,
      [s.streamId, s.aggregateType, s.version, s.schemaVersion, JSON.stringify(s.state), s.takenAt],
    );
  }

  async delete(streamId: string, options: ReadOptions = {}): Promise<void> {
    await (options.tx ?? this.db).execute('DELETE FROM trellis_snapshots WHERE stream_id = $1', [streamId]);
  }
}
