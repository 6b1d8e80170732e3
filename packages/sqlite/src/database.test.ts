import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeSqlDatabaseConformance } from '@trellis/testing';
import { describe, expect, it } from 'vitest';
import { SqliteDatabase } from './database.js';
import { rewritePlaceholders } from './placeholders.js';

const file = () => join(mkdtempSync(join(tmpdir(), 'trellis-sqlite-')), 'test.db');

describeSqlDatabaseConformance('sqlite', async () => SqliteDatabase.open(file()));

describe('SqliteDatabase', () => {
  it('fails loudly instead of deadlocking when used directly inside its own transaction', async () => {
    const db = SqliteDatabase.open(file());
    await expect(db.transaction(async () => db.query('SELECT 1'))).rejects.toThrow(/use the `tx` argument/);
    expect(await db.query<{ one: number }>('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    await db.close();
  });

  it('persists across reopen (a real file in WAL mode)', async () => {
    const path = file();
    const a = SqliteDatabase.open(path);
    expect(a.raw.pragma('journal_mode', { simple: true })).toBe('wal');
    await a.execute('CREATE TABLE t (n INTEGER)');
    await a.transaction(async (tx) => {
      await tx.execute('INSERT INTO t VALUES ($1)', [7]);
    });
    await a.close();
    const b = SqliteDatabase.open(path);
    expect(await b.query('SELECT n FROM t')).toEqual([{ n: 7 }]);
    await b.close();
  });

  it('maps booleans, dates and undefined to storable values', async () => {
    const db = SqliteDatabase.open(':memory:');
    await db.execute('CREATE TABLE t (b, d, u)');
    await db.execute('INSERT INTO t VALUES ($1, $2, $3)', [true, new Date(0), undefined]);
    expect(await db.query('SELECT * FROM t')).toEqual([{ b: 1, d: '1970-01-01T00:00:00.000Z', u: null }]);
    await db.close();
  });
});

describe('rewritePlaceholders', () => {
  it('maps $n to ? with the binding order, skipping strings, identifiers and comments', () => {
    expect(rewritePlaceholders(`SELECT $2, '$1', "$3", $1 -- $4\n, $2`)).toEqual({
      sql: `SELECT ?, '$1', "$3", ? -- $4\n, ?`,
      order: [1, 0, 1],
    });
    expect(rewritePlaceholders(`SELECT 'it''s $1', $10`)).toEqual({
      sql: `SELECT 'it''s $1', ?`,
      order: [9],
    });
    expect(rewritePlaceholders('SELECT /* $2 */ $1, `$2` /* $3')).toEqual({
      sql: 'SELECT /* $2 */ ?, `$2` /* $3',
      order: [0],
    });
  });

  it('binds the right values when a block comment mentions a placeholder', async () => {
    const db = SqliteDatabase.open(file());
    expect(await db.query('SELECT /* $2 is not bound here */ $1 AS a', ['x'])).toEqual([{ a: 'x' }]);
    await db.close();
  });
});
