// Public API of @trellis/eventstore.
export { AppendHookList } from './append-hooks.js';
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
export type {
  AppendHook,
  AppendOptions,
  AppendResult,
  EventStore,
  ReadOptions,
  TransactionContext,
} from './event-store.js';
