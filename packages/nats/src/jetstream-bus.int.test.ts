import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { type Bus, withInbox } from '@trellis/messaging';
import { describeBusConformance } from '@trellis/messaging/conformance';
import { SqliteDatabase, SqliteDeadLetterStore, SqliteInbox, SqliteOutbox } from '@trellis/sqlite';
import { serverUrl } from '@trellis/testing';
import { describe, expect, it } from 'vitest';
import { JetStreamBus } from './jetstream-bus.js';

const url = serverUrl('nats');
let seq = 0;

describe.skipIf(!url)('JetStreamBus', () => {
  describeBusConformance('jetstream', async () => {
    const n = `${process.pid}_${seq++}`;
    const dir = mkdtempSync(join(tmpdir(), 'trellis-js-'));
    // Dead letters and the replay outbox live in the service's database, as in production.
    const db = SqliteDatabase.open(join(dir, 'service.db'));
    const deadLetters = await SqliteDeadLetterStore.create(db);
    const outbox = await SqliteOutbox.create(db);
    const buses: JetStreamBus[] = [];
    const open = (options = {}) =>
      JetStreamBus.connect({
        servers: url,
        deadLetters,
        stream: `T${n}`,
        subjectPrefix: `t${n}`,
        partitions: 4,
        ...options,
      });
    const first = await open();
    buses.push(first);
    const relay = outbox.startRelay(first, { pollIntervalMs: 20 });
    const ledgers: SqliteDatabase[] = [];
    return {
      deadLetters,
      async createBus(options = {}) {
        const bus = await open(options);
        buses.push(bus);
        return bus;
      },
      async crash(bus: Bus) {
        await (bus as JetStreamBus).crash();
      },
      async createLedger() {
        const ledger = SqliteDatabase.open(join(dir, `ledger-${ledgers.length}.db`));
        ledgers.push(ledger);
        await ledger.execute(
          'CREATE TABLE applied (seq INTEGER PRIMARY KEY AUTOINCREMENT, group_name TEXT, message_id TEXT)',
        );
        const inbox = await SqliteInbox.create(ledger);
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
              await ledger.query<{ group_name: string; message_id: string }>(
                'SELECT group_name, message_id FROM applied ORDER BY seq',
              )
            ).map((r) => ({ group: r.group_name, messageId: r.message_id })),
          close: async () => {},
        };
      },
      async cleanup() {
        await relay.stop();
        await Promise.all(buses.map((b) => b.close()));
        const nc = await connect({ servers: url });
        await (await jetstreamManager(nc)).streams.delete(`T${n}`).catch(() => false);
        await nc.close();
        for (const l of ledgers) await l.close();
        await db.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  });

  it('refuses a stream created with another partition count', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'trellis-js-'));
    const db = SqliteDatabase.open(join(dir, 'service.db'));
    const deadLetters = await SqliteDeadLetterStore.create(db);
    const n = `${process.pid}_${seq++}`;
    const a = await JetStreamBus.connect({
      servers: url,
      deadLetters,
      stream: `P${n}`,
      subjectPrefix: `p${n}`,
      partitions: 4,
    });
    await expect(
      JetStreamBus.connect({
        servers: url,
        deadLetters,
        stream: `P${n}`,
        subjectPrefix: `p${n}`,
        partitions: 8,
      }),
    ).rejects.toMatchObject({ code: 'BUS_MISCONFIGURED' });
    const nc = await connect({ servers: url });
    await (await jetstreamManager(nc)).streams.delete(`P${n}`);
    await nc.close();
    await a.close();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });
});
