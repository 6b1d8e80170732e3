/** A SQLite file in a fresh temporary directory, removed by `cleanup` (for unit tests). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteDatabase } from '@trellis/sqlite';

/** Opens a temporary database; `cleanup()` closes and deletes it. */
export function tempSqlite(): { db: SqliteDatabase; dir: string; cleanup(): Promise<void> } {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-shop-unit-'));
  const db = SqliteDatabase.open(join(dir, 'test.db'));
  return {
    db,
    dir,
    async cleanup() {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
