/**
 * Child process for the multi-process SQLite test: appends `count` times to its own streams
 * and to one shared stream (with expected versions and retries), then exits 0.
 * Usage: `event-append-child.ts <file> <name> <count>`.
 */
import { isConcurrencyError } from '@trellis/eventstore';
import { SqliteDatabase } from './database.js';
import { SqliteEventStore } from './event-store.js';

const [file, name, count] = process.argv.slice(2);
const db = SqliteDatabase.open(file ?? '');
const store = await SqliteEventStore.create(db);
for (let i = 0; i < Number(count); i++) {
  const events = Array.from({ length: 1 + (i % 3) }, (_, k) => ({ eventType: 'E', payload: { name, i, k } }));
  await store.append(`${name}-${i % 5}`, events);
  for (;;) {
    const version = await store.streamVersion('shared');
    try {
      await store.append('shared', [{ eventType: 'S', payload: { name, i } }], { expectedVersion: version });
      break;
    } catch (err) {
      if (!isConcurrencyError(err)) throw err;
    }
  }
}
await db.close();
