/**
 * The snapshot is the injection and fuzz tests' witness that "nothing was written": it must
 * see each thing an injected statement could do to a real database — a row added, changed or
 * deleted, a table dropped or created — and nothing when nothing happened.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteDatabase } from '@trellis/sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { diffSnapshots, rowDeltas, settled, snapshot } from './state-snapshot.js';

let dir: string;
let db: SqliteDatabase;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'trellis-snapshot-'));
  db = SqliteDatabase.open(join(dir, 'shop.db'));
  await db.execute('CREATE TABLE shop_users (id TEXT PRIMARY KEY, name TEXT)');
  await db.execute('CREATE TABLE shop_stock (id TEXT PRIMARY KEY, available INTEGER)');
  await db.execute('CREATE TABLE trellis_outbox_lease (owner TEXT)');
  await db.execute("INSERT INTO shop_users VALUES ('u1', 'Alice'), ('u2', 'Bob')");
  await db.execute("INSERT INTO shop_stock VALUES ('p1', 5)");
});
afterEach(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('state snapshots', () => {
  it('see nothing when nothing changed, and ignore the outbox lease heartbeat', async () => {
    const before = await snapshot({ users: db });
    await db.execute("INSERT INTO trellis_outbox_lease VALUES ('relay-1')");
    expect(diffSnapshots(before, await snapshot({ users: db }))).toEqual([]);
  });

  it('see every effect an injected statement could have', async () => {
    const before = await snapshot({ users: db });
    await db.execute("UPDATE shop_stock SET available = 0 WHERE id = 'p1'");
    await db.execute("INSERT INTO shop_users VALUES ('pwned', 'x')");
    await db.execute("DELETE FROM shop_users WHERE id = 'u2'");
    await db.execute('CREATE TABLE trellis_pwned (x INTEGER)');
    const after = await snapshot({ users: db });
    expect(diffSnapshots(before, after)).toEqual([
      'users.shop_stock: 1 → 1 rows, contents changed',
      'users.shop_users: 2 → 2 rows, contents changed',
      'users.trellis_pwned: new table (0 rows)',
    ]);
    await db.execute('DROP TABLE shop_stock');
    expect(diffSnapshots(after, await snapshot({ users: db }))).toEqual([
      'users.shop_stock: table gone (had 1 rows)',
    ]);
  });

  it('count rows added per table, and wait until the state holds still', async () => {
    const before = await settled({ users: db }, 5_000);
    await db.execute("INSERT INTO shop_users VALUES ('u3', 'Carol'), ('u4', 'Dan')");
    expect(rowDeltas(before, await settled({ users: db }, 5_000))).toEqual({ 'users.shop_users': 2 });
  });
});
