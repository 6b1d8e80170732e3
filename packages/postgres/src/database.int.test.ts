import { createTestDatabase, describeSqlDatabaseConformance, serverUrl } from '@trellis/testing';
import { describe, expect, it } from 'vitest';
import { PostgresDatabase } from './database.js';

const available = serverUrl('postgres');

describe.skipIf(!available)('PostgresDatabase', () => {
  describeSqlDatabaseConformance('postgres', async () =>
    PostgresDatabase.connect(await createTestDatabase('uow')),
  );

  it('parses BIGINT as a number', async () => {
    const db = PostgresDatabase.connect(await createTestDatabase('uow_int8'));
    expect(await db.query('SELECT 9007199254740991::bigint AS n')).toEqual([{ n: 9007199254740991 }]);
    await db.close();
  });
});
