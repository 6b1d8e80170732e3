/**
 * @trellis/messaging: the Bus contract and everything transport-independent around it —
 * the in-memory bus, the consumer pipeline (schemas, retries, dead letters), the inbox and
 * outbox contracts and the outbox relay, metrics hooks and trace/correlation propagation.
 */
export type {
  Bus,
  BusHealth,
  ConsumerLag,
  HandlerContext,
  HeaderProvider,
  MessageHandler,
  RetryOptions,
  SubscribeOptions,
  Subscription,
} from './bus.js';
export { currentMessage, outgoingHeaders, outsideMessage, runWithMessage } from './context.js';
export {
  type DeadLetter,
  type DeadLetterError,
  type DeadLetterFilter,
  type DeadLetterPage,
  type DeadLetterReason,
  type DeadLetterStore,
  type NewDeadLetter,
  REPLAY_HEADER,
  serializeError,
} from './dead-letter.js';
export {
  type Consumer,
  type ConsumerDefaults,
  type Delivery,
  deadLetterEntry,
  type Outcome,
  processDelivery,
  recordDeadLetter,
  resolveConsumer,
} from './delivery.js';
export {
  BusClosedError,
  BusConfigurationError,
  isBusClosedError,
  isBusConfigurationError,
  isMaxDeliveriesExceededError,
  isPublishFailedError,
  MaxDeliveriesExceededError,
  PublishFailedError,
} from './errors.js';
export { type EventOutboxOptions, type OutboxEvent, outboxAppendHook } from './event-outbox.js';
export { InMemoryBroker, type InMemoryBrokerOptions } from './in-memory-broker.js';
export { InMemoryBus, type InMemoryBusOptions } from './in-memory-bus.js';
export {
  InMemoryDeadLetterStore,
  type InMemoryDeadLetterStoreOptions,
  matchesDeadLetterFilter,
  replayMessage,
  replayPrepared,
} from './in-memory-dead-letter-store.js';
export {
  type Inbox,
  type InboxResult,
  InMemoryInbox,
  type InMemoryInboxTransaction,
  type TransactionalHandler,
  withInbox,
} from './inbox.js';
export { startLagReporter } from './lag-reporter.js';
export {
  cleanHeaders,
  type Message,
  type MessageHeaders,
  type OutgoingMessage,
  type PublishedMessage,
  type PublishOptions,
} from './message.js';
export {
  type BusObserver,
  combineObservers,
  type DeadLetteredEvent,
  type HandledEvent,
  type LagEvent,
  notify,
  type PublishedEvent,
  type RelayedEvent,
  type RetriedEvent,
} from './observer.js';
export {
  fromOutboxRow,
  type Outbox,
  type OutboxRow,
  type OutboxSource,
  SqlOutbox,
  type SqlOutboxOptions,
  writeOutboxRows,
} from './outbox.js';
export { OutboxRelay, type OutboxRelayOptions } from './outbox-relay.js';
export { type PrepareContext, type PreparedMessage, prepareMessage, published } from './prepare.js';
export { DEFAULT_MAX_ATTEMPTS, defaultIsRetryable, type ResolvedRetry, resolveRetry } from './retry.js';
export { assertPayload, type ParseResult, parsePayload, type TopicSchemas, toJson } from './schemas.js';
export {
  type Redeliver,
  SqlDeadLetterStore,
  type SqlDeadLetterStoreOptions,
} from './sql-dead-letter-store.js';
export { SqlInbox } from './sql-inbox.js';
export { assertGroup, assertPattern, assertTopic, topicMatches } from './topics.js';
