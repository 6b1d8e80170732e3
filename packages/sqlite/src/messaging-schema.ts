import type { SqliteDatabase } from './database.js';

/**
 * Tables for messaging on SQLite. The outbox, inbox and dead letters live in a service's own
 * database (they commit with its writes); the durable bus has its own tables, usually in a
 * separate file shared by every process on the machine.
 */

const OUTBOX = `
CREATE TABLE IF NOT EXISTS trellis_outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL,
  topic TEXT NOT NULL,
  msg_key TEXT,
  headers TEXT NOT NULL,
  payload TEXT NOT NULL,
  published_at INTEGER NOT NULL,
  target_group TEXT
);
CREATE TABLE IF NOT EXISTS trellis_outbox_lease (
  name TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  until INTEGER NOT NULL
);`;

const INBOX = `
CREATE TABLE IF NOT EXISTS trellis_inbox (
  group_name TEXT NOT NULL,
  message_id TEXT NOT NULL,
  topic TEXT NOT NULL,
  processed_at INTEGER NOT NULL,
  PRIMARY KEY (group_name, message_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS trellis_inbox_processed_at ON trellis_inbox (processed_at);`;

const DEAD_LETTERS = `
CREATE TABLE IF NOT EXISTS trellis_dead_letters (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  message_id TEXT NOT NULL,
  group_name TEXT NOT NULL,
  pattern TEXT NOT NULL,
  topic TEXT NOT NULL,
  msg_key TEXT,
  headers TEXT NOT NULL,
  payload TEXT NOT NULL,
  reason TEXT NOT NULL,
  error TEXT NOT NULL,
  error_code TEXT,
  attempts INTEGER NOT NULL,
  published_at INTEGER NOT NULL,
  first_attempt_at INTEGER,
  last_attempt_at INTEGER NOT NULL,
  dead_lettered_at INTEGER NOT NULL,
  transport TEXT NOT NULL,
  UNIQUE (group_name, message_id)
);
CREATE INDEX IF NOT EXISTS trellis_dead_letters_topic ON trellis_dead_letters (topic);`;

/**
 * The durable bus. `messages` is the retained log (dedupe by id, replay of history);
 * `deliveries` holds one row per (consumer, message) not yet acknowledged: its attempt count,
 * when it may next be taken (`available_at`: now for new rows, a retry time after a failure,
 * the lease expiry while a member holds it) and which member holds it.
 */
const BUS = `
CREATE TABLE IF NOT EXISTS trellis_bus_messages (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  topic TEXT NOT NULL,
  msg_key TEXT,
  headers TEXT NOT NULL,
  payload TEXT NOT NULL,
  published_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS trellis_bus_messages_published_at ON trellis_bus_messages (published_at);
CREATE TABLE IF NOT EXISTS trellis_bus_consumers (
  consumer_id INTEGER PRIMARY KEY AUTOINCREMENT,
  group_name TEXT NOT NULL,
  pattern TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  UNIQUE (group_name, pattern)
);
CREATE TABLE IF NOT EXISTS trellis_bus_deliveries (
  consumer_id INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  msg_key TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  available_at INTEGER NOT NULL,
  lease_owner TEXT,
  first_attempt_at INTEGER,
  PRIMARY KEY (consumer_id, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS trellis_bus_deliveries_key ON trellis_bus_deliveries (consumer_id, msg_key, seq);
CREATE INDEX IF NOT EXISTS trellis_bus_deliveries_seq ON trellis_bus_deliveries (seq);`;

async function exec(db: SqliteDatabase, sql: string): Promise<void> {
  await db.transaction(async () => {
    db.raw.exec(sql);
  });
}

/** Creates the outbox tables if missing (idempotent). */
export function migrateOutbox(db: SqliteDatabase): Promise<void> {
  return exec(db, OUTBOX);
}

/** Creates the inbox table if missing (idempotent). */
export function migrateInbox(db: SqliteDatabase): Promise<void> {
  return exec(db, INBOX);
}

/** Creates the dead-letter table if missing (idempotent). */
export function migrateDeadLetters(db: SqliteDatabase): Promise<void> {
  return exec(db, DEAD_LETTERS);
}

/** Creates the durable bus's tables (and its dead-letter table) if missing (idempotent). */
export function migrateBus(db: SqliteDatabase): Promise<void> {
  return exec(db, BUS + DEAD_LETTERS);
}
