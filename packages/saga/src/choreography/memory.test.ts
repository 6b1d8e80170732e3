import { describeProcessStoreContract } from '../conformance/process-store-contract.js';
import { MemoryProcessStore } from './memory.js';

describeProcessStoreContract('memory', async () => ({
  store: new MemoryProcessStore(),
  close: async () => {},
}));
