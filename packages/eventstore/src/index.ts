// Public API of @trellis/eventstore. Conformance tests: '@trellis/eventstore/conformance';
// the seed's order example: '@trellis/eventstore/examples'.
export {
  Aggregate,
  type AggregateClass,
  aggregateTypeOf,
  type LoadOptions,
  type PayloadOf,
  type SaveOptions,
} from './aggregate.js';
export { AppendHookList } from './append-hooks.js';
export {
  appendInputSchema,
  checkCount,
  type PreparedAppend,
  type PreparedEvent,
  prepareAppend,
  storedEvent,
  versionMatches,
} from './append-input.js';
export { type Checkpoint, type CheckpointStore, InMemoryCheckpointStore } from './checkpoint-store.js';
export type { DomainEvent, EventLike, EventMetadata, ExpectedVersion, NewEvent } from './domain-event.js';
export {
  ConcurrencyError,
  isConcurrencyError,
  isProjectionError,
  isUnknownEventTypeError,
  isUpcastError,
  ProjectionError,
  UnknownEventTypeError,
  UpcastError,
} from './errors.js';
export {
  defineEvents,
  type EventDefinitions,
  type EventOf,
  EventRegistry,
  type EventTypeDefinition,
  type Upcaster,
} from './event-registry.js';
export type {
  AppendHook,
  AppendOptions,
  AppendResult,
  EventStore,
  EventStoreOptions,
  ReadOptions,
  TransactionContext,
} from './event-store.js';
export { InMemoryEventStore, InMemoryStorage } from './memory-event-store.js';
export { MemoryTransaction } from './memory-transaction.js';
export {
  dropTarget,
  inlineProjection,
  type Projection,
  type ProjectionContext,
  promoteTarget,
  sqlIdentifier,
  useInlineProjection,
  wants,
} from './projection.js';
export {
  ProjectionRunner,
  type ProjectionRunnerOptions,
  type ProjectionState,
} from './projection-runner.js';
export { InMemorySnapshotStore, type Snapshot, type SnapshotStore } from './snapshot-store.js';
export { type SubscribeOptions, type Subscription, subscribe } from './subscription.js';
export { Wakeup } from './wakeup.js';
