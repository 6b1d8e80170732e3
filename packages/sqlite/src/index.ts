export { SqliteCheckpointStore } from './checkpoint-store.js';
export { SqliteDatabase, type SqliteDatabaseOptions } from './database.js';
export { migrateEventTables } from './event-schema.js';
export { SqliteEventStore } from './event-store.js';
export { rewritePlaceholders } from './placeholders.js';
export { SqliteSnapshotStore } from './snapshot-store.js';
