import { type Clock, type SqlTransaction, systemClock } from '@trellis/core';
import type { Checkpoint, CheckpointStore } from '@trellis/eventstore';
import type { SqliteDatabase } from './database.js';
import { migrateEventTables } from './event-schema.js';

/**
 * Projection and subscriber checkpoints in `trellis_checkpoints`. SQLite runs one write
 * transaction at a time, so a runner's read-handle-save batch is already exclusive.
 */
export class SqliteCheckpointStore implements CheckpointStore<SqlTransaction> {
  private constructor(
    private readonly db: SqliteDatabase,
    private readonly clock: Clock,
  ) {}

  /** Creates the tables if needed (idempotent). */
  static async create(db: SqliteDatabase, options: { clock?: Clock } = {}): Promise<SqliteCheckpointStore> {
    await migrateEventTables(db);
    return new SqliteCheckpointStore(db, options.clock ?? systemClock);
  }

  async load(name: string, tx: SqlTransaction): Promise<number> {
    const [row] = await tx.query<{ position: number }>(
      'SELECT position FROM trellis_checkpoints WHERE name = $1',
      [name],
    );
    return row?.position ?? 0;
  }

  async save(name: string, position: number, tx: SqlTransaction): Promise<void> {
    await tx.execute(
      `INSERT INTO trellis_checkpoints (name, position, updated_at) VALUES ($1, $2, $3)
       ON CONFLICT (name) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at`,
      [name, position, new Date(this.clock.now()).toISOString()],
    );
  }

  async delete(name: string, tx: SqlTransaction): Promise<void> {
    await tx.execute('DELETE FROM trellis_checkpoints WHERE name = $1', [name]);
  }

  async list(): Promise<Checkpoint[]> {
    const rows = await this.db.query<{ name: string; position: number; updated_at: string }>(
      'SELECT name, position, updated_at FROM trellis_checkpoints ORDER BY name',
    );
    return rows.map((r) => ({ name: r.name, position: r.position, updatedAt: new Date(r.updated_at) }));
  }
}
