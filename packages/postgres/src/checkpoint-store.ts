import { type Clock, type SqlTransaction, systemClock } from '@trellis/core';
import type { Checkpoint, CheckpointStore } from '@trellis/eventstore';
import type { PostgresDatabase } from './database.js';
import { migrateEventTables } from './event-schema.js';

/**
 * Projection and subscriber checkpoints in `trellis_checkpoints`. `load` locks the row
 * (`FOR UPDATE`) until the batch transaction ends, so several runners of one projection (in
 * several processes) take turns instead of handling the same events twice.
 */
export class PostgresCheckpointStore implements CheckpointStore<SqlTransaction> {
  private constructor(
    private readonly db: PostgresDatabase,
    private readonly clock: Clock,
  ) {}

  /** Creates the tables if needed (idempotent). */
  static async create(
    db: PostgresDatabase,
    options: { clock?: Clock } = {},
  ): Promise<PostgresCheckpointStore> {
    await migrateEventTables(db);
    return new PostgresCheckpointStore(db, options.clock ?? systemClock);
  }

  async load(name: string, tx: SqlTransaction): Promise<number> {
    const select = 'SELECT position FROM trellis_checkpoints WHERE name = $1 FOR UPDATE';
    let [row] = await tx.query<{ position: number | string }>(select, [name]);
    if (!row) {
      await tx.execute(
        'INSERT INTO trellis_checkpoints (name, position, updated_at) VALUES ($1, 0, $2) ON CONFLICT (name) DO NOTHING',
        [name, new Date(this.clock.now())],
      );
      [row] = await tx.query<{ position: number | string }>(select, [name]);
    }
    return Number(row?.position ?? 0);
  }

  async save(name: string, position: number, tx: SqlTransaction): Promise<void> {
    await tx.execute(
      `INSERT INTO trellis_checkpoints (name, position, updated_at) VALUES ($1, $2, $3)
       ON CONFLICT (name) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at`,
      [name, position, new Date(this.clock.now())],
    );
  }

  async delete(name: string, tx: SqlTransaction): Promise<void> {
    await tx.execute('DELETE FROM trellis_checkpoints WHERE name = $1', [name]);
  }

  async list(): Promise<Checkpoint[]> {
    const rows = await this.db.query<{ name: string; position: number | string; updated_at: Date }>(
      'SELECT name, position, updated_at FROM trellis_checkpoints ORDER BY name',
    );
    return rows.map((r) => ({ name: r.name, position: Number(r.position), updatedAt: r.updated_at }));
  }
}
