export { SqliteDatabase, type SqliteDatabaseOptions } from './database.js';
export { rewritePlaceholders } from './placeholders.js';
