import type { SqlDatabase, SqlTransaction } from '@trellis/core';
import type { Bus, HeaderProvider, MessageHandler } from '../bus.js';
import type { DeadLetterStore } from '../dead-letter.js';
import { type Inbox, withInbox } from '../inbox.js';
import type { Message } from '../message.js';
import type { BusObserver } from '../observer.js';
import type { TopicSchemas } from '../schemas.js';

/** Options a conformance test passes when it creates a bus. */
export interface ConformanceBusOptions {
  schemas?: TopicSchemas;
  observer?: BusObserver;
  headers?: HeaderProvider;
}

/**
 * What a transport provides to run the bus conformance suite. One context is created per test
 * (a fresh backend: a new SQLite file, a new JetStream stream…); every bus it creates shares
 * that backend, like several processes on one broker.
 */
export interface BusConformanceContext {
  /** A new bus instance on the shared backend (think: a new process). */
  createBus(options?: ConformanceBusOptions): Promise<Bus>;
  /** Simulates the crash of `bus`'s process: nothing it is handling gets acknowledged. */
  crash(bus: Bus): Promise<void>;
  /** The dead-letter store every bus of this context records to. */
  deadLetters: DeadLetterStore;
  /** An effectively-once ledger: each effect commits with its inbox mark. */
  createLedger(): Promise<Ledger>;
  /** Closes buses and deletes the backend. */
  cleanup(): Promise<void>;
}

/** Hooks a ledger handler runs inside the inbox transaction. */
export interface LedgerHooks {
  /** Runs after the effect is written, before commit; throwing rolls both back. */
  beforeCommit?: (message: Message) => void | Promise<void>;
  /** Runs after commit, before the handler returns (i.e. before the bus acks). */
  afterCommit?: (message: Message) => void | Promise<void>;
}

/** A store of applied effects written through an inbox. */
export interface Ledger {
  handler(hooks?: LedgerHooks): MessageHandler;
  /** Every effect applied, in commit order. */
  applied(): Promise<Array<{ group: string; messageId: string }>>;
  close(): Promise<void>;
}

/** Timing knobs a transport may need to tune (defaults suit all built-in transports). */
export interface ConformanceOptions {
  /** Visibility timeout used in crash tests (default 1000 ms). */
  visibilityTimeoutMs?: number;
  /** How long to wait for an expected delivery (default 15 000 ms). */
  waitMs?: number;
  /** Per-test timeout (default 60 000 ms). */
  testTimeoutMs?: number;
}

/**
 * A {@link Ledger} in a SQL database: each effect is a row of its `applied` table, written in
 * the inbox's transaction (created here; `db` is usually a SQLite file of the test's own).
 */
export async function sqlLedger(db: SqlDatabase, inbox: Inbox<SqlTransaction>): Promise<Ledger> {
  const seq = db.dialect === 'postgres' ? 'BIGSERIAL PRIMARY KEY' : 'INTEGER PRIMARY KEY AUTOINCREMENT';
  await db.execute(`CREATE TABLE applied (seq ${seq}, group_name TEXT, message_id TEXT)`);
  return {
    handler: (hooks = {}) => {
      const inner = withInbox(inbox, async (message, tx, context) => {
        await tx.execute('INSERT INTO applied (group_name, message_id) VALUES ($1, $2)', [
          context.group,
          message.id,
        ]);
        await hooks.beforeCommit?.(message);
      });
      return async (message, context) => {
        await inner(message, context);
        await hooks.afterCommit?.(message);
      };
    },
    applied: async () =>
      (
        await db.query<{ group_name: string; message_id: string }>(
          'SELECT group_name, message_id FROM applied ORDER BY seq',
        )
      ).map((r) => ({ group: r.group_name, messageId: r.message_id })),
    close: async () => {},
  };
}
