/**
 * Child process of the PostgreSQL saga crash test (see saga-crash.int.test.ts): connects and
 * runs the shared crash scenario until it is killed or done.
 */
import { runSagaCrashChild } from '@trellis/saga/crash-test';
import { PostgresDatabase } from './database.js';
import { PostgresSagaStore } from './saga-store.js';

const env = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is required`);
  return v;
};

const db = PostgresDatabase.connect(env('TRELLIS_CRASH_URL'), { max: 8 });
// Creating the tables also needs the database: keep trying while it restarts.
let store: PostgresSagaStore | undefined;
while (!store) {
  store = await PostgresSagaStore.create(db).catch(() => undefined);
  if (!store) await new Promise((r) => setTimeout(r, 100));
}
await runSagaCrashChild({
  db,
  store,
  worker: env('TRELLIS_CRASH_WORKER'),
  count: Number(env('TRELLIS_CRASH_COUNT')),
  inFlight: 8,
  ...(process.env.TRELLIS_CRASH_START_AT ? { startAt: Number(process.env.TRELLIS_CRASH_START_AT) } : {}),
});
await db.close();
