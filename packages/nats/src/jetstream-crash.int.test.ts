import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jetstreamManager } from '@nats-io/jetstream';
import { InMemoryDeadLetterStore } from '@trellis/messaging';
import { busCrashTest } from '@trellis/messaging/conformance';
import { SqliteDatabase } from '@trellis/sqlite';
import { serverUrl } from '@trellis/testing';
import { describe } from 'vitest';
import { JetStreamBus } from './jetstream-bus.js';

const url = serverUrl('nats');
const here = dirname(fileURLToPath(import.meta.url));

describe.skipIf(!url)('JetStreamBus crash (real child processes, SIGKILL mid-stream)', () => {
  busCrashTest(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'trellis-js-crash-'));
    const stream = `CRASH${process.pid}`;
    const prefix = `crash${process.pid}`;
    const bus = await JetStreamBus.connect({
      servers: url,
      stream,
      subjectPrefix: prefix,
      partitions: 4,
      deadLetters: new InMemoryDeadLetterStore(),
    });
    const jsm = await jetstreamManager(bus.connection);
    return {
      bus,
      entry: join(here, 'jetstream-crash-child.ts'),
      args: [url as string, stream, prefix, dir],
      openLedger: () => SqliteDatabase.open(join(dir, 'ledger.db')),
      backlog: async () => {
        let open = 0;
        for await (const c of jsm.consumers.list(stream)) open += c.num_pending + c.num_ack_pending;
        return open;
      },
      cleanup: async () => {
        await jsm.streams.delete(stream);
        await bus.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  });
});
