/**
 * Child process of the SQLite bus crash test: the shared crash consumer
 * (`runBusCrashChild`) on the durable SQLite bus, with its ledger and inbox in another file.
 * Usage: `sqlite-bus-crash-child.ts <bus-file> <ledger-file>`.
 */
import { runBusCrashChild } from '@trellis/messaging/crash-test';
import { SqliteDatabase } from './database.js';
import { SqliteInbox } from './inbox.js';
import { SqliteBus } from './sqlite-bus.js';

const [busFile, ledgerFile] = process.argv.slice(2);
const ledger = SqliteDatabase.open(ledgerFile ?? '');
const inbox = await SqliteInbox.create(ledger);
await runBusCrashChild({ bus: await SqliteBus.open(busFile ?? ''), ledger, inbox });
