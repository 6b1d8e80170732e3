import { describeSagaStoreConformance } from '@trellis/saga/conformance';
import { createTestDatabase, serverUrl } from '@trellis/testing';
import { describe } from 'vitest';
import { PostgresDatabase } from './database.js';
import { PostgresSagaStore } from './saga-store.js';

describe.skipIf(!serverUrl('postgres'))('PostgresSagaStore', () => {
  describeSagaStoreConformance(
    'postgres',
    async () => {
      const url = await createTestDatabase('sagas');
      const db = PostgresDatabase.connect(url);
      const store = await PostgresSagaStore.create(db);
      return {
        store,
        db,
        // A second pool, as a second process would have: claims must still never overlap.
        openPeer: async () => {
          const peer = PostgresDatabase.connect(url);
          return { store: await PostgresSagaStore.create(peer), close: () => peer.close() };
        },
        close: () => db.close(),
      };
    },
    { transactional: true },
  );
});
