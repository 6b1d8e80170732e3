export { PostgresCheckpointStore } from './checkpoint-store.js';
export { PostgresDatabase, type PostgresDatabaseOptions } from './database.js';
export { EVENTS_CHANNEL, migrateEventTables } from './event-schema.js';
export { PostgresEventStore, type PostgresEventStoreOptions } from './event-store.js';
export { SagaBatcher } from './saga-batcher.js';
export { PostgresSagaStore, type PostgresSagaStoreOptions } from './saga-store.js';
export { PostgresSnapshotStore } from './snapshot-store.js';
