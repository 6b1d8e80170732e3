import { PostgresDatabase } from '@trellis/postgres';
import { createTestDatabase, serverUrl } from '@trellis/testing';
import { afterAll, describe } from 'vitest';
import { describeIdempotencyStoreConformance } from './idempotency-store-conformance.js';
import { SqlIdempotencyStore } from './sql-idempotency-store.js';

const available = serverUrl('postgres');

describe.skipIf(!available)('SqlIdempotencyStore on PostgreSQL', () => {
  const opened: PostgresDatabase[] = [];
  afterAll(async () => {
    await Promise.all(opened.map((db) => db.close()));
  });
  describeIdempotencyStoreConformance('postgres', async (clock) => {
    const db = PostgresDatabase.connect(await createTestDatabase('idem'));
    opened.push(db);
    const store = new SqlIdempotencyStore(db, { clock });
    await store.migrate();
    return store;
  });
});
