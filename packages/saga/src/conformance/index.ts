/**
 * `@trellis/saga/conformance`: the suites every saga store runs (memory, SQLite, PostgreSQL).
 * Separate from the main entry so that importing `@trellis/saga` never loads vitest.
 *
 * @example
 * ```ts
 * describeSagaStoreConformance('sqlite', async () => {
 *   const db = SqliteDatabase.open(join(dir, 'sagas.db'));
 *   return { store: await SqliteSagaStore.create(db), db, close: () => db.close() };
 * }, { transactional: true });
 * ```
 */
import type { SagaStoreFactory } from './fixture.js';
import { describeSagaRunnerBasics } from './runner-basics.js';
import { describeSagaRunnerRecovery } from './runner-recovery.js';
import { describeSagaStoreContract } from './store-contract.js';

export { ev, newInstance, type SagaStoreFactory, type SagaStoreFixture, uniqueName } from './fixture.js';
export { Ledger, type LedgerCall } from './ledger.js';
export { describeProcessStoreContract } from './process-store-contract.js';
export { describeSagaRunnerBasics, describeSagaRunnerRecovery, describeSagaStoreContract };

/**
 * Registers the whole saga conformance suite: the store contract and the durable runner's
 * scenarios (orchestration, crash recovery, leases, two workers). `transactional` adds the
 * tests that start a saga inside the backend's transaction (needs `fixture.db`).
 */
export function describeSagaStoreConformance(
  backend: string,
  factory: SagaStoreFactory,
  options: { transactional?: boolean } = {},
): void {
  describeSagaStoreContract(backend, factory, options);
  describeSagaRunnerBasics(backend, factory);
  describeSagaRunnerRecovery(backend, factory, options);
}
