import type { PostgresDatabase } from './database.js';

/**
 * Messaging tables on PostgreSQL: the outbox, the inbox and the dead letters, in the service's
 * own database so they commit with its writes. JSON columns are `text`: rows pass through
 * unchanged, and nothing needs parsing on the relay's hot path.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS trellis_outbox (
  seq BIGSERIAL PRIMARY KEY,
  id TEXT NOT NULL,
  topic TEXT NOT NULL,
  msg_key TEXT,
  headers TEXT NOT NULL,
  payload TEXT NOT NULL,
  published_at BIGINT NOT NULL,
  target_group TEXT
);
CREATE INDEX IF NOT EXISTS trellis_outbox_key ON trellis_outbox (msg_key, seq);
CREATE TABLE IF NOT EXISTS trellis_inbox (
  group_name TEXT NOT NULL,
  message_id TEXT NOT NULL,
  topic TEXT NOT NULL,
  processed_at BIGINT NOT NULL,
  PRIMARY KEY (group_name, message_id)
);
CREATE INDEX IF NOT EXISTS trellis_inbox_processed_at ON trellis_inbox (processed_at);
CREATE TABLE IF NOT EXISTS trellis_dead_letters (
  seq BIGSERIAL PRIMARY KEY,
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
  published_at BIGINT NOT NULL,
  first_attempt_at BIGINT,
  last_attempt_at BIGINT NOT NULL,
  dead_lettered_at BIGINT NOT NULL,
  transport TEXT NOT NULL,
  UNIQUE (group_name, message_id)
);
CREATE INDEX IF NOT EXISTS trellis_dead_letters_topic ON trellis_dead_letters (topic);`;

/**
 * Creates the outbox, inbox and dead-letter tables if missing (idempotent; serialised by an
 * advisory lock so services starting together do not race on `CREATE TABLE IF NOT EXISTS`).
 */
export async function migrateMessaging(db: PostgresDatabase): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock(hashtext('trellis_messaging_schema'))");
    await tx.execute(SCHEMA);
  });
}
