import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteDatabase } from '@trellis/sqlite';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryIdempotencyStore } from './idempotency-store.js';
import { describeIdempotencyStoreConformance } from './idempotency-store-conformance.js';
import { SqlIdempotencyStore } from './sql-idempotency-store.js';

describeIdempotencyStoreConformance('memory', async (clock) => new MemoryIdempotencyStore({ clock }));

const dir = mkdtempSync(join(tmpdir(), 'trellis-idem-'));
const opened: SqliteDatabase[] = [];
afterAll(async () => {
  await Promise.all(opened.map((db) => db.close()));
  rmSync(dir, { recursive: true, force: true });
});
let n = 0;
describeIdempotencyStoreConformance('sqlite', async (clock) => {
  const db = SqliteDatabase.open(join(dir, `idem-${n++}.db`));
  opened.push(db);
  const store = new SqlIdempotencyStore(db, { clock });
  await store.migrate();
  return store;
});

describe('MemoryIdempotencyStore', () => {
  it('stays within maxEntries, dropping the oldest key', async () => {
    const store = new MemoryIdempotencyStore({ maxEntries: 2 });
    await store.acquire('a', 'fp', 60_000);
    await store.acquire('b', 'fp', 60_000);
    await store.acquire('c', 'fp', 60_000);
    expect((await store.acquire('a', 'fp', 60_000)).state).toBe('acquired');
  });
});

describe('SqlIdempotencyStore', () => {
  it('survives a restart: a completed response is replayed by a new store on the same file', async () => {
    const file = join(dir, 'restart.db');
    const db1 = SqliteDatabase.open(file);
    const s1 = new SqlIdempotencyStore(db1);
    await s1.migrate();
    await s1.acquire('k', 'fp', 60_000);
    await s1.complete('k', { status: 200, headers: {}, body: '"ok"' }, 60_000);
    await db1.close();
    const db2 = SqliteDatabase.open(file);
    opened.push(db2);
    const s2 = new SqlIdempotencyStore(db2);
    await s2.migrate();
    expect(await s2.acquire('k', 'fp', 60_000)).toEqual({
      state: 'completed',
      fingerprint: 'fp',
      response: { status: 200, headers: {}, body: '"ok"' },
    });
    expect(await s2.purgeExpired()).toBe(0);
  });
});
