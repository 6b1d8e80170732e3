/**
 * Child process of the JetStream crash test: the shared crash consumer (`runBusCrashChild`)
 * on JetStream, with its ledger, inbox and dead letters in a SQLite file.
 * Usage: `jetstream-crash-child.ts <nats-url> <stream> <prefix> <dir>`.
 */
import { join } from 'node:path';
import { runBusCrashChild } from '@trellis/messaging/crash-test';
import { SqliteDatabase, SqliteDeadLetterStore, SqliteInbox } from '@trellis/sqlite';
import { JetStreamBus } from './jetstream-bus.js';

const [url, stream, prefix, dir] = process.argv.slice(2) as [string, string, string, string];
const ledger = SqliteDatabase.open(join(dir, 'ledger.db'));
const inbox = await SqliteInbox.create(ledger);
const deadLetters = await SqliteDeadLetterStore.create(ledger);
const bus = await JetStreamBus.connect({
  servers: url,
  stream,
  subjectPrefix: prefix,
  partitions: 4,
  deadLetters,
});
await runBusCrashChild({ bus, ledger, inbox });
