/**
 * Child process of the SQLite saga crash test (see saga-crash.test.ts): opens the database
 * file and runs the shared crash scenario until it is killed or done.
 */
import { runSagaCrashChild } from '@trellis/saga/crash-test';
import { SqliteDatabase } from './database.js';
import { SqliteSagaStore } from './saga-store.js';

const env = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is required`);
  return v;
};

const db = SqliteDatabase.open(env('TRELLIS_CRASH_DB'));
await runSagaCrashChild({
  db,
  store: await SqliteSagaStore.create(db),
  worker: env('TRELLIS_CRASH_WORKER'),
  count: Number(env('TRELLIS_CRASH_COUNT')),
  inFlight: 8,
  ...(process.env.TRELLIS_CRASH_START_AT ? { startAt: Number(process.env.TRELLIS_CRASH_START_AT) } : {}),
});
await db.close();
