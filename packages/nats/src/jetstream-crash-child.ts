/**
 * Child process of the JetStream crash test: consumes `crash.*` as group `crash`, applying
 * each message through a SQLite inbox, holding acknowledgements back a little so a SIGKILL
 * lands between commits and acks. Prints `READY` once subscribed and `A <id> <attempt>` per
 * delivery. Usage: `jetstream-crash-child.ts <nats-url> <stream> <prefix> <dir>`.
 */
import { join } from 'node:path';
import { withInbox } from '@trellis/messaging';
import { SqliteDatabase, SqliteDeadLetterStore, SqliteInbox } from '@trellis/sqlite';
import { JetStreamBus } from './jetstream-bus.js';

const [url, stream, prefix, dir] = process.argv.slice(2) as [string, string, string, string];
const ledger = SqliteDatabase.open(join(dir, 'ledger.db'));
await ledger.execute(
  'CREATE TABLE IF NOT EXISTS applied (seq INTEGER PRIMARY KEY AUTOINCREMENT, message_id TEXT NOT NULL, k TEXT, n INTEGER)',
);
const inbox = await SqliteInbox.create(ledger);
const deadLetters = await SqliteDeadLetterStore.create(ledger);
const bus = await JetStreamBus.connect({
  servers: url,
  stream,
  subjectPrefix: prefix,
  partitions: 4,
  deadLetters,
});
const apply = withInbox(inbox, async (m, tx) => {
  const { n } = m.payload as { n: number };
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
