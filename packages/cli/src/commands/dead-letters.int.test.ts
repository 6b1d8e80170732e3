import { PostgresDatabase, PostgresDeadLetterStore } from '@trellis/postgres';
import { createTestDatabase, serverUrl } from '@trellis/testing';
import { describe, expect, it } from 'vitest';
import { captureIO } from '../command.js';
import { main } from '../main.js';

const url = serverUrl('postgres');

describe.skipIf(!url)('trellis dead-letters (PostgreSQL URL)', () => {
  it('lists and replays into the service outbox, addressed to the group', async () => {
    const dbUrl = await createTestDatabase('cli_dead_letters');
    const db = PostgresDatabase.connect(dbUrl);
    try {
      const store = await PostgresDeadLetterStore.create(db);
      for (const n of [1, 2]) {
        await store.record({
          messageId: `m-${n}`,
          group: 'payments',
          pattern: 'payment.*',
          topic: 'payment.requested',
          key: `o${n}`,
          headers: { correlationId: `c${n}` },
          payload: { amount: n },
          reason: 'failed',
          error: { name: 'Error', message: 'card processor timeout', code: 'UPSTREAM_TIMEOUT' },
          attempts: 5,
          publishedAt: 1,
          firstAttemptAt: 2,
          lastAttemptAt: 3,
          transport: 'jetstream',
        });
      }
      const list = captureIO();
      expect(await main(['dead-letters', 'list', '--db', dbUrl, '--json'], list)).toBe(0);
      expect((JSON.parse(list.out) as unknown[]).length).toBe(2);
      const replay = captureIO();
      expect(await main(['dead-letters', 'replay', '--db', dbUrl, '--key', 'o2'], replay)).toBe(0);
      expect(replay.out).toBe('replayed 1\n');
      const rows = await db.query<{ id: string; target_group: string; topic: string }>(
        'SELECT id, target_group, topic FROM trellis_outbox',
      );
      expect(rows).toEqual([{ id: 'm-2', target_group: 'payments', topic: 'payment.requested' }]);
      expect(await store.count()).toBe(1);
    } finally {
      await db.close();
    }
  });

  it('refuses a database without Trellis dead letters, and hides the password', async () => {
    const dbUrl = new URL(await createTestDatabase('cli_empty'));
    dbUrl.password = 'secret-pw';
    const io = captureIO();
    expect(await main(['dead-letters', 'count', '--db', dbUrl.toString()], io)).toBe(1);
    expect(io.err).toContain('has no Trellis dead letters');
    expect(io.err).toContain(':***@');
    expect(io.err).not.toContain('secret-pw');
  });
});
