import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeProcessStoreContract } from '@trellis/saga/conformance';
import { SqliteDatabase } from './database.js';
import { SqliteProcessStore } from './process-store.js';

describeProcessStoreContract('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-pm-'));
  const db = SqliteDatabase.open(join(dir, 'pm.db'));
  return {
    store: await SqliteProcessStore.create(db),
    close: async () => {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
