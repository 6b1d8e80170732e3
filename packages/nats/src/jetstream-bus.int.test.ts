import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { Bus } from '@trellis/messaging';
import { describeBusConformance, sqlLedger } from '@trellis/messaging/conformance';
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
        return sqlLedger(ledger, await SqliteInbox.create(ledger));
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
