import type { SqlDatabase } from '@trellis/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Registers the unit-of-work conformance tests for a {@link SqlDatabase} backend. Every
 * backend runs the same suite, so SQLite and PostgreSQL behave alike where it matters.
 */
export function describeSqlDatabaseConformance(name: string, open: () => Promise<SqlDatabase>): void {
  describe(`SqlDatabase conformance: ${name}`, () => {
    let db: SqlDatabase;
    beforeAll(async () => {
      db = await open();
      await db.execute('CREATE TABLE kv (k TEXT PRIMARY KEY, v INTEGER NOT NULL)');
    });
    afterAll(async () => {
      await db.close();
    });

    it('commits when the function resolves and returns its value', async () => {
      const out = await db.transaction(async (tx) => {
        await tx.execute('INSERT INTO kv (k, v) VALUES ($1, $2)', ['a', 1]);
        return 'done';
      });
      expect(out).toBe('done');
      expect(await db.query('SELECT v FROM kv WHERE k = $1', ['a'])).toEqual([{ v: 1 }]);
    });

    it('rolls back everything when the function throws, and rethrows', async () => {
      await expect(
        db.transaction(async (tx) => {
          await tx.execute('INSERT INTO kv (k, v) VALUES ($1, $2)', ['b', 1]);
          await tx.execute('UPDATE kv SET v = $1 WHERE k = $2', [99, 'a']);
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      expect(await db.query('SELECT k, v FROM kv ORDER BY k')).toEqual([{ k: 'a', v: 1 }]);
    });

    it('runs afterCommit hooks only after a commit', async () => {
      const calls: string[] = [];
      await db.transaction(async (tx) => {
        tx.afterCommit(() => calls.push('committed'));
        await tx.execute('INSERT INTO kv (k, v) VALUES ($1, $2)', ['c', 1]);
        expect(calls).toEqual([]);
      });
      await db
        .transaction(async (tx) => {
          tx.afterCommit(() => calls.push('rolled back?!'));
          throw new Error('no');
        })
        .catch(() => {});
      expect(calls).toEqual(['committed']);
    });

    it('hides uncommitted writes from statements outside the transaction', async () => {
      let release!: () => void;
      const gate = new Promise<void>((r) => {
        release = r;
      });
      const inside = db.transaction(async (tx) => {
        await tx.execute('INSERT INTO kv (k, v) VALUES ($1, $2)', ['d', 1]);
        await gate;
      });
      // Give the transaction time to insert before reading from outside it.
      await new Promise((r) => setTimeout(r, 20));
      const outside = db.query('SELECT k FROM kv WHERE k = $1', ['d']);
      release();
      await inside;
      const rows = await outside;
      // SQLite serialises (the read waits and then sees the commit); PostgreSQL reads the
      // snapshot before the commit. Either way the read never sees a half-done transaction.
      expect(rows.length === 0 || rows.length === 1).toBe(true);
      expect(await db.query('SELECT k FROM kv WHERE k = $1', ['d'])).toEqual([{ k: 'd' }]);
    });

    it('keeps concurrent read-modify-write transactions correct', async () => {
      await db.execute('INSERT INTO kv (k, v) VALUES ($1, $2)', ['counter', 0]);
      await Promise.all(
        Array.from({ length: 40 }, () =>
          db.transaction(async (tx) => {
            await tx.execute('UPDATE kv SET v = v + 1 WHERE k = $1', ['counter']);
          }),
        ),
      );
      expect(await db.query('SELECT v FROM kv WHERE k = $1', ['counter'])).toEqual([{ v: 40 }]);
    });

    it('binds a repeated placeholder and leaves quoted dollars alone', async () => {
      const rows = await db.query<{ x: string; y: number }>(
        "SELECT k AS x, v + $1 - $1 AS y FROM kv WHERE k = $2 AND '$1' = '$1'",
        [5, 'a'],
      );
      expect(rows).toEqual([{ x: 'a', y: 1 }]);
    });

    it('reports affected rows', async () => {
      expect(await db.execute('UPDATE kv SET v = v WHERE k IN ($1, $2)', ['a', 'c'])).toBe(2);
    });

    it('refuses to use a transaction handle after it finished', async () => {
      let leaked: Parameters<Parameters<SqlDatabase['transaction']>[0]>[0] | undefined;
      await db.transaction(async (tx) => {
        leaked = tx;
      });
      await expect(leaked!.query('SELECT 1')).rejects.toThrow(/already finished/);
    });
  });
}
