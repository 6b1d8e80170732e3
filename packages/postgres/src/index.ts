export { PostgresDatabase, type PostgresDatabaseOptions } from './database.js';
