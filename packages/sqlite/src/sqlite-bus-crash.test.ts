import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { busCrashTest } from '@trellis/messaging/conformance';
import { describe } from 'vitest';
import { SqliteDatabase } from './database.js';
import { SqliteBus } from './sqlite-bus.js';

const here = dirname(fileURLToPath(import.meta.url));

describe('SqliteBus crash (real child processes, SIGKILL mid-stream)', () => {
  // Outcomes and the next claim share one transaction, so while a backlog exists some
  // deliveries are always leased: the kill always strands some, and they come again.
  busCrashTest(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'trellis-bus-crash-'));
    const busFile = join(dir, 'bus.db');
    const ledgerFile = join(dir, 'ledger.db');
    const bus = await SqliteBus.open(busFile);
    return {
      bus,
      entry: join(here, 'sqlite-bus-crash-child.ts'),
      args: [busFile, ledgerFile],
      openLedger: () => SqliteDatabase.open(ledgerFile),
      backlog: async () =>
        (await bus.db.query<{ c: number }>('SELECT COUNT(*) AS c FROM trellis_bus_deliveries'))[0]?.c ?? 0,
      cleanup: async () => {
        await bus.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  });
});
