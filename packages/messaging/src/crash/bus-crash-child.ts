/**
 * `@trellis/messaging/crash-test`: the child side of the bus crash proof (the test side is
 * `describeBusCrash` in `@trellis/messaging/conformance`). It runs outside vitest, in a process
 * the test kills with SIGKILL.
 */
import type { SqlDatabase, SqlTransaction } from '@trellis/core';
import type { Bus } from '../bus.js';
import { type Inbox, withInbox } from '../inbox.js';

/** What the child consumes with and writes to. */
export interface BusCrashChildOptions {
  /** A bus on the backend the test publishes to. */
  bus: Bus;
  /** The ledger (a SQLite file the test reads too): effects go to its `applied` table. */
  ledger: SqlDatabase;
  /** The ledger's inbox: the only thing that keeps a redelivered message from applying twice. */
  inbox: Inbox<SqlTransaction>;
}

/**
 * Consumes `crash.*` as group `crash`, applying each message through the inbox, and holds
 * every acknowledgement back a little so that a SIGKILL from the parent lands between commits
 * and acks. Prints `READY` once subscribed and `A <id> <attempt>` for every delivery.
 */
export async function runBusCrashChild({ bus, ledger, inbox }: BusCrashChildOptions): Promise<void> {
  await ledger.execute(
    'CREATE TABLE IF NOT EXISTS applied (seq INTEGER PRIMARY KEY AUTOINCREMENT, message_id TEXT NOT NULL, k TEXT, n INTEGER)',
  );
  const apply = withInbox(inbox, async (m, tx) => {
    const { n } = m.payload as { n: number };
    // Deliberately not idempotent on its own: only the inbox prevents a second row.
    await tx.execute('INSERT INTO applied (message_id, k, n) VALUES ($1, $2, $3)', [m.id, m.key, n]);
  });
  await bus.subscribe(
    'crash.*',
    async (m, ctx) => {
      process.stdout.write(`A ${m.id} ${m.attempt}\n`);
      await apply(m, ctx);
      await new Promise((r) => setTimeout(r, 3));
    },
    { group: 'crash', concurrency: 8, visibilityTimeoutMs: 1000 },
  );
  process.stdout.write('READY\n');
}
