export { findExecutable, INSTALL_HINT, postgresBinDirs, type ServerKind, serverBinary } from './binaries.js';
export { type LaunchSpec, ManagedProcess } from './managed-process.js';
export { startNats } from './nats.js';
export { canConnect, freePort } from './ports.js';
export { PG_OS_USER, type PostgresHandle, type PostgresOptions, startPostgres } from './postgres.js';
export { startRedis } from './redis.js';
export type { ServerHandle } from './server-handle.js';
export { createTestDatabase, serverUrl } from './servers.js';
export { describeSqlDatabaseConformance } from './sql-database-conformance.js';
