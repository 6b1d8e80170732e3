import { PostgresDatabase, PostgresSagaStore } from '@trellis/postgres';
import { defineSaga, SagaRunner } from '@trellis/saga';
import { createTestDatabase, serverUrl } from '@trellis/testing';
import { describe, expect, it } from 'vitest';
import { captureIO } from '../command.js';
import { main } from '../main.js';

describe.skipIf(!serverUrl('postgres'))('trellis sagas (PostgreSQL URL)', () => {
  it('lists, shows and resumes sagas in a PostgreSQL database', async () => {
    const url = await createTestDatabase('cli_sagas');
    const db = PostgresDatabase.connect(url);
    let works = false;
    const saga = defineSaga<{ n: number }>('pg-order')
      .step({
        name: 'hold',
        execute: () => ({ held: true }),
        compensate: () => {
          if (!works) throw new Error('release failed');
        },
        compensation: { retry: { maxAttempts: 1 } },
      })
      .step({ name: 'fail', execute: () => Promise.reject(new Error('boom')) })
      .build();
    const runner = new SagaRunner({ store: await PostgresSagaStore.create(db), worker: 'cli-pg' });
    try {
      expect((await runner.run(saga, { n: 1 }, { id: 'pg-1' })).status).toBe('failed');
      const list = captureIO();
      expect(await main(['sagas', 'list', '--db', url, '--status', 'failed'], list)).toBe(0);
      expect(list.out).toMatch(/pg-1\s+pg-order\s+failed \(was compensating\)\s+hold/);
      const show = captureIO();
      expect(await main(['sagas', 'show', 'pg-1', '--db', url], show)).toBe(0);
      expect(show.out).toMatch(/hold\s+compensation_failed\s+1\s+1/);
      const resume = captureIO();
      expect(await main(['sagas', 'resume', 'pg-1', '--db', url], resume)).toBe(0);
      works = true;
      expect(await runner.recover()).toBe(1);
      expect((await runner.waitFor('pg-1')).status).toBe('compensated');
      const empty = captureIO();
      expect(await main(['sagas', 'counts', '--db', await createTestDatabase('cli_empty')], empty)).toBe(1);
      expect(empty.err).toMatch(/has no Trellis sagas/);
    } finally {
      await runner.close();
      await db.close();
    }
  });
});
