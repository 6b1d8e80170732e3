/**
 * Child process of the SQLite bus crash test: consumes `crash.*` as group `crash`, applying
 * each message through the inbox to a ledger database, and holds every acknowledgement back a
 * little so that a SIGKILL from the parent lands between commits and acks. Prints `READY` once
 * subscribed and `A <id> <attempt>` for every delivery.
 * Usage: `sqlite-bus-crash-child.ts <bus-file> <ledger-file>`.
 */
import { withInbox } from '@trellis/messaging';
import { SqliteDatabase } from './database.js';
import { SqliteInbox } from './inbox.js';
import { SqliteBus } from './sqlite-bus.js';

const [busFile, ledgerFile] = process.argv.slice(2);
const ledger = SqliteDatabase.open(ledgerFile ?? '');
await ledger.execute(
  'CREATE TABLE IF NOT EXISTS applied (seq INTEGER PRIMARY KEY AUTOINCREMENT, message_id TEXT NOT NULL, k TEXT, n INTEGER)',
);
const inbox = await SqliteInbox.create(ledger);
const bus = await SqliteBus.open(busFile ?? '');
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
