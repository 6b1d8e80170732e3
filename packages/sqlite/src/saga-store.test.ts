import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeSagaStoreConformance } from '@trellis/saga/conformance';
import { SqliteDatabase } from './database.js';
import { SqliteSagaStore } from './saga-store.js';

// One connection per file per process is the SQLite backend's model (a second in-process
// connection would block the event loop on SQLITE_BUSY); two processes sharing a file are
// covered by the crash test.
describeSagaStoreConformance(
  'sqlite',
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'trellis-saga-'));
    const file = join(dir, 'sagas.db');
    const db = SqliteDatabase.open(file);
    const store = await SqliteSagaStore.create(db);
    return {
      store,
      db,
      close: async () => {
        await db.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
  { transactional: true },
);
