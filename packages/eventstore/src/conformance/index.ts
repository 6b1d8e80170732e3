import { describe } from 'vitest';
import type { TransactionContext } from '../event-store.js';
import { aggregateTests } from './aggregate-tests.js';
import { appendTests } from './append-tests.js';
import { type ConformanceFactory, useConformanceContext } from './harness.js';
import { projectionTests } from './projection-tests.js';
import { subscriptionTests } from './subscription-tests.js';
import { transactionTests } from './transaction-tests.js';
import { validationTests } from './validation-tests.js';

export type { ConformanceContext, ConformanceFactory, ConformanceStorage } from './harness.js';
export { describeSqlProjectionConformance } from './sql-projection-tests.js';

/**
 * Registers the event store conformance tests (vitest) for a backend. Every backend runs the
 * same suite, so in-memory, SQLite and PostgreSQL behave alike: appends and optimistic
 * concurrency, validation and upcasting, transactions and append hooks, catch-up
 * subscriptions, aggregates and snapshots, async projections with checkpoints.
 *
 * @example
 * ```ts
 * import { describeEventStoreConformance } from '@trellis/eventstore/conformance';
 *
 * describeEventStoreConformance('sqlite', async () => {
 *   const db = SqliteDatabase.open(join(dir, `${randomUUID()}.db`));
 *   return {
 *     open: (options) => SqliteEventStore.create(db, options),
 *     snapshots: await SqliteSnapshotStore.create(db),
 *     checkpoints: await SqliteCheckpointStore.create(db),
 *     close: () => db.close(),
 *   };
 * });
 * ```
 */
export function describeEventStoreConformance<Tx extends TransactionContext>(
  name: string,
  factory: ConformanceFactory<Tx>,
): void {
  describe(`EventStore conformance: ${name}`, () => {
    const ctx = useConformanceContext(factory);
    describe('append and read', () => appendTests(ctx));
    describe('bad input and upcasting', () => validationTests(ctx));
    describe('transactions and append hooks', () => transactionTests(ctx));
    describe('catch-up subscriptions', () => subscriptionTests(ctx));
    describe('aggregates and snapshots', () => aggregateTests(ctx));
    describe('projections', () => projectionTests(ctx));
  });
}
