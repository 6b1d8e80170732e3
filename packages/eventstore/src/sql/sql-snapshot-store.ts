/**
 * Aggregate snapshots in `trellis_snapshots` over any {@link SqlDatabase}: the statements of
 * `SqliteSnapshotStore` (`@trellis/sqlite`) and `PostgresSnapshotStore` (`@trellis/postgres`),
 * written once. The backends differ only in the column types their `migrateEventTables`
 * creates: SQLite keeps the state as JSON text and the time as ISO text, PostgreSQL as jsonb
 * (returned parsed) and timestamptz.
 */
import type { SqlDatabase, SqlTransaction } from '@trellis/core';
import type { ReadOptions } from '../event-store.js';
import type { Snapshot, SnapshotStore } from '../snapshot-store.js';

interface SnapshotRow {
  stream_id: string;
  aggregate_type: string;
  version: number | string;
  schema_version: number;
  /** JSON text on SQLite, parsed jsonb on PostgreSQL. */
  state: unknown;
  /** ISO text on SQLite, a Date on PostgreSQL. */
  taken_at: string | Date;
}

/**
 * The {@link SnapshotStore} over a {@link SqlDatabase} whose tables exist. Internal to the
 * backends: use `SqliteSnapshotStore` or `PostgresSnapshotStore`.
 */
export class SqlSnapshotStore implements SnapshotStore<SqlTransaction> {
  /** PostgreSQL: jsonb state, timestamptz time. */
  private readonly pg: boolean;

  protected constructor(private readonly db: SqlDatabase) {
    this.pg = db.dialect === 'postgres';
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
      // By dialect, not by type: a jsonb state may itself be a JSON string.
      state: this.pg ? row.state : JSON.parse(row.state as string),
      takenAt: new Date(row.taken_at),
    };
  }

  async save(s: Snapshot, options: ReadOptions = {}): Promise<void> {
    // Never overwrite a newer snapshot of the same shape (two loaders racing to refresh it).
    await (options.tx ?? this.db).execute(
      `INSERT INTO trellis_snapshots (stream_id, aggregate_type, version, schema_version, state, taken_at)
       VALUES ($1, $2, $3, $4, $5${this.pg ? '::jsonb' : ''}, $6)
       ON CONFLICT (stream_id) DO UPDATE SET aggregate_type = excluded.aggregate_type, version = excluded.version,
         schema_version = excluded.schema_version, state = excluded.state, taken_at = excluded.taken_at
       WHERE excluded.version >= trellis_snapshots.version OR excluded.schema_version <> trellis_snapshots.schema_version`,
      [
        s.streamId,
        s.aggregateType,
        s.version,
        s.schemaVersion,
        JSON.stringify(s.state),
        this.pg ? s.takenAt : s.takenAt.toISOString(),
      ],
    );
  }

  async delete(streamId: string, options: ReadOptions = {}): Promise<void> {
    await (options.tx ?? this.db).execute('DELETE FROM trellis_snapshots WHERE stream_id = $1', [streamId]);
  }
}
