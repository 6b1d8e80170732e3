import { describeRunStoreConformance } from '../conformance/index.js';
import { InMemoryRunStore } from './memory-run-store.js';

describeRunStoreConformance('InMemoryRunStore', async () => ({
  store: new InMemoryRunStore(),
  close: async () => {},
}));
