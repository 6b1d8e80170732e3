/**
 * `whereStored` reads the storage itself: a text counts as stored only where a column, or a
 * string inside JSON, equals it exactly — a prefix, an escaped copy or a trimmed copy does not.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteDatabase } from '@trellis/sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { whereStored } from './stored-values.js';

let dir: string;
let db: SqliteDatabase;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'trellis-stored-'));
  db = SqliteDatabase.open(join(dir, 'x.db'));
  await db.execute('CREATE TABLE people (id TEXT, name TEXT, data TEXT, raw BLOB)');
  await db.execute('CREATE TABLE other (id TEXT)');
});
afterEach(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('whereStored', () => {
  it('finds a text in a column, inside JSON text and inside a blob, exactly', async () => {
    const payload = "' OR '1'='1";
    const inJson = "\\'; DROP TABLE x; --";
    await db.execute('INSERT INTO people VALUES ($1, $2, $3, $4)', [
      'a',
      payload,
      JSON.stringify({ address: { line1: inJson } }),
      Buffer.from('blob text'),
    ]);
    const found = await whereStored(
      { users: db },
      ['users.people', 'users.other'],
      [payload, inJson, 'blob text'],
    );
    expect(found.get(payload)).toEqual(['users.people']);
    expect(found.get(inJson)).toEqual(['users.people']);
    expect(found.get('blob text')).toEqual(['users.people']);
  });

  it('does not count a prefix, a trimmed or an escaped copy', async () => {
    await db.execute('INSERT INTO people VALUES ($1, $2, $3, NULL)', [
      'a',
      "' OR '1'='",
      JSON.stringify({ n: 'x\\y' }),
    ]);
    const found = await whereStored({ users: db }, ['users.people'], ["' OR '1'='1", ' x\\y', 'x\\\\y']);
    expect([...found.values()]).toEqual([[], [], []]);
  });
});
