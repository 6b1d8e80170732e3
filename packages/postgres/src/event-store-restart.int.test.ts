import { type DomainEvent, ProjectionRunner, subscribe } from '@trellis/eventstore';
import { OrderReadModel } from '@trellis/eventstore/examples';
import { serverUrl, startPostgres } from '@trellis/testing';
import { describe, expect, it } from 'vitest';
import { PostgresCheckpointStore } from './checkpoint-store.js';
import { PostgresDatabase } from './database.js';
import { PostgresEventStore } from './event-store.js';

/** Retries `fn` while the server is coming back (the first calls hit dead pooled connections). */
async function eventually<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt > 50) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

describe.skipIf(!serverUrl('postgres'))('PostgreSQL crash and restart', () => {
  it('subscriptions, projections and LISTEN recover by themselves', async () => {
    // Durable commits: with synchronous_commit off, a crash may forget the last commits and
    // reuse their positions, which no reader could tell apart from new events.
    const server = await startPostgres({ durable: true });
    try {
      const url = await server.createDatabase('es_restart');
      const readerDb = PostgresDatabase.connect(url);
      const writerDb = PostgresDatabase.connect(url);
      const reader = await PostgresEventStore.create(readerDb);
      const writer = await PostgresEventStore.create(writerDb);
      const checkpoints = await PostgresCheckpointStore.create(readerDb);
      const model = new OrderReadModel();
      const runner = new ProjectionRunner({
        store: reader,
        checkpoints,
        projection: model,
        retryDelayMs: 50,
      });
      await runner.setup();
      runner.start();
      const seen: DomainEvent[] = [];
      const readErrors: unknown[] = [];
      // A poll interval far beyond the test timeout: only LISTEN/NOTIFY can wake this reader.
      const sub = subscribe(reader, {
        handler: (e) => void seen.push(e),
        pollIntervalMs: 10 * 60_000,
        retryDelayMs: 50,
        onReadError: (e) => readErrors.push(e),
      });

      await writer.append('o-1', [{ eventType: 'ItemAdded', payload: { productId: 'p', quantity: 2 } }]);
      await sub.waitFor(1);
      await runner.waitFor(1);

      await server.kill(); // a crash, not a shutdown
      // Orphaned backends of the killed postmaster hold its shared memory for a moment.
      await eventually(() => server.restart());

      await eventually(() => writer.append('o-1', [{ eventType: 'OrderSubmitted', payload: {} }]));
      await sub.waitFor(2);
      await runner.waitFor(2);
      expect(seen.map((e) => e.eventType)).toEqual(['ItemAdded', 'OrderSubmitted']);
      expect(await eventually(() => model.get(readerDb, 'o-1'))).toMatchObject({
        status: 'submitted',
        item_count: 2,
      });
      expect(runner.state).toBe('running');

      await sub.stop();
      await runner.stop();
      await reader.close();
      await writer.close();
      await readerDb.close();
      await writerDb.close();
    } finally {
      await server.destroy();
    }
  });
});
