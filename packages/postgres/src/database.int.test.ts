import { createTestDatabase, describeSqlDatabaseConformance, serverUrl } from '@trellis/testing';
import { describe, expect, it } from 'vitest';
import { PostgresDatabase } from './database.js';

const available = serverUrl('postgres');

describe.skipIf(!available)('PostgresDatabase', () => {
  describeSqlDatabaseConformance('postgres', async () =>
    PostgresDatabase.connect(await createTestDatabase('uow')),
  );

  it('survives its connection being killed mid-transaction: the transaction rejects, the process lives on', async () => {
    const url = await createTestDatabase('uow_killed');
    const db = PostgresDatabase.connect(url);
    const admin = PostgresDatabase.connect(url);
    // pg emits 'error' on a checked-out client whose connection ends; with no listener that was
    // an uncaught exception (vitest fails the run on it), as when PostgreSQL is restarted.
    const uncaught: unknown[] = [];
    const onUncaught = (e: unknown) => uncaught.push(e);
    process.on('uncaughtException', onUncaught);
    try {
      await expect(
        db.transaction(async (tx) => {
          const [row] = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
          await admin.query('SELECT pg_terminate_backend($1)', [row?.pid]);
          await new Promise((r) => setTimeout(r, 200));
          await tx.query('SELECT 1');
        }),
      ).rejects.toThrow();
      await new Promise((r) => setTimeout(r, 100));
      expect(uncaught).toEqual([]);
      // The broken connection was discarded: the next transaction gets a live one.
      expect(await db.transaction((tx) => tx.query('SELECT 1 AS one'))).toEqual([{ one: 1 }]);
    } finally {
      process.off('uncaughtException', onUncaught);
      await db.close();
      await admin.close();
    }
  });

  it('parses BIGINT as a number', async () => {
    const db = PostgresDatabase.connect(await createTestDatabase('uow_int8'));
    expect(await db.query('SELECT 9007199254740991::bigint AS n')).toEqual([{ n: 9007199254740991 }]);
    await db.close();
  });
});
