import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteDatabase } from '@trellis/sqlite';
import { describeRunStoreConformance } from '../conformance/index.js';
import { SqlRunStore } from './sql-run-store.js';

describeRunStoreConformance(
  'SqlRunStore on SQLite',
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'trellis-agent-runs-'));
    const file = join(dir, 'runs.db');
    const opened: SqliteDatabase[] = [];
    const open = async () => {
      const db = SqliteDatabase.open(file);
      opened.push(db);
      const store = new SqlRunStore(db);
      await store.migrate();
      return store;
    };
    return {
      store: await open(),
      reopen: open,
      close: async () => {
        for (const db of opened) await db.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
  { durable: true },
);
