import { InMemoryCheckpointStore } from './checkpoint-store.js';
import { describeEventStoreConformance } from './conformance/index.js';
import { InMemoryEventStore, InMemoryStorage } from './memory-event-store.js';
import { InMemorySnapshotStore } from './snapshot-store.js';

describeEventStoreConformance('in-memory', async () => {
  const storage = new InMemoryStorage();
  const opened: InMemoryEventStore[] = [];
  return {
    open: async (options) => {
      const store = new InMemoryEventStore({ ...options, storage });
      opened.push(store);
      return store;
    },
    snapshots: new InMemorySnapshotStore(),
    checkpoints: new InMemoryCheckpointStore(),
    close: async () => {
      for (const s of opened) await s.close();
    },
  };
});
