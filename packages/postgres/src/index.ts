export { PostgresCheckpointStore } from './checkpoint-store.js';
export { PostgresDatabase, type PostgresDatabaseOptions } from './database.js';
export {
  DatabaseTimeoutError,
  type DatabaseTimeoutOperation,
  isDatabaseTimeoutError,
} from './database-timeout.js';
export { PostgresDeadLetterStore } from './dead-letter-store.js';
export { EVENTS_CHANNEL, migrateEventTables } from './event-schema.js';
export { PostgresEventStore, type PostgresEventStoreOptions } from './event-store.js';
export { PostgresInbox } from './inbox.js';
export { migrateMessaging } from './messaging-schema.js';
export { PostgresOutbox } from './outbox.js';
export { PostgresProcessStore } from './process-store.js';
export { SagaBatcher } from './saga-batcher.js';
export { PostgresSagaStore, type PostgresSagaStoreOptions } from './saga-store.js';
export { PostgresSnapshotStore } from './snapshot-store.js';
