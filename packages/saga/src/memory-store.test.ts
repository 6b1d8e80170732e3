import { describeSagaStoreConformance } from './conformance/index.js';
import { MemorySagaStore } from './memory-store.js';

describeSagaStoreConformance('memory', async () => ({ store: new MemorySagaStore(), close: async () => {} }));
