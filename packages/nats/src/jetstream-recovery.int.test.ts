import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { InMemoryDeadLetterStore, type Message } from '@trellis/messaging';
import { serverUrl, startNats } from '@trellis/testing';
import { describe, expect, it } from 'vitest';
import { JetStreamBus } from './jetstream-bus.js';

const url = serverUrl('nats');
let seq = 0;

describe.skipIf(!url)('JetStreamBus recovery and edge cases', () => {
  it('keeps consuming and publishing after the NATS server is killed and restarted', async () => {
    const nats = await startNats();
    try {
      const bus = await JetStreamBus.connect({
        servers: nats.url,
        partitions: 2,
        deadLetters: new InMemoryDeadLetterStore(),
      });
      const got: number[] = [];
      await bus.subscribe('job.*', (m) => void got.push((m.payload as { n: number }).n), {
        group: 'workers',
        visibilityTimeoutMs: 1000,
      });
      for (let n = 0; n < 5; n++) await bus.publish('job.run', { n }, { key: `k${n % 2}` });
      await expect.poll(() => got.length, { timeout: 10_000 }).toBe(5);
      await nats.kill();
      await nats.restart();
      // Publishing retries until the client has reconnected (the caller's job; the outbox does it).
      await expect
        .poll(
          async () => {
            try {
              await bus.publish('job.run', { n: 5 }, { key: 'k1', id: 'after-restart' });
              return true;
            } catch {
              return false;
            }
          },
          { timeout: 20_000, interval: 200 },
        )
        .toBe(true);
      for (let n = 6; n < 10; n++) await bus.publish('job.run', { n }, { key: `k${n % 2}` });
      await expect.poll(() => [...new Set(got)].length, { timeout: 30_000 }).toBe(10);
      expect(await bus.health()).toMatchObject({ ok: true });
      await bus.close();
    } finally {
      await nats.destroy();
    }
  });

  it('dead-letters a body that is not JSON and reports lag to the observer', async () => {
    const n = `${process.pid}_${seq++}`;
    const deadLetters = new InMemoryDeadLetterStore();
    const lags: number[] = [];
    const bus = await JetStreamBus.connect({
      servers: url,
      stream: `E${n}`,
      subjectPrefix: `e${n}`,
      partitions: 2,
      deadLetters,
      lagIntervalMs: 50,
      observer: { lag: (e) => lags.push(e.pending) },
    });
    const handled: Message[] = [];
    const sub = await bus.subscribe('raw.*', (m) => void handled.push(m), { group: 'g' });
    // A foreign publisher writing plain text straight to the stream.
    await jetstream(bus.connection).publish(`e${n}.m.u.raw.text`, 'not json {');
    await bus.publish('raw.json', { ok: true });
    await expect.poll(() => deadLetters.count(), { timeout: 10_000 }).toBe(1);
    await expect.poll(() => handled.length, { timeout: 10_000 }).toBe(1);
    const [dl] = await deadLetters.list();
    expect(dl).toMatchObject({ reason: 'invalid-payload', topic: 'raw.text', payload: 'not json {' });
    expect(dl?.error.code).toBe('VALIDATION_FAILED');
    await expect.poll(() => lags.length, { timeout: 5000 }).toBeGreaterThan(0);
    expect(await sub.lag()).toEqual({ pending: 0, inFlight: 0 });
    await (await jetstreamManager(bus.connection)).streams.delete(`E${n}`);
    await bus.close();
  });
});
