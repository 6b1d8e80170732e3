import { ValidationError } from '@trellis/core';
import { expect, it } from 'vitest';
import { z } from 'zod';
import type { RetryOptions } from '../bus.js';
import type { Message } from '../message.js';
import type { BusConformanceContext, ConformanceOptions } from './harness.js';
import { deferred, pause, waitFor } from './wait.js';

type Use = () => BusConformanceContext;

const fastRetry: RetryOptions = { maxAttempts: 3, backoff: { initialDelay: 20, jitter: 'none' } };

/** Failure semantics: retries, dead letters, schemas, replay, crashes, inbox dedupe. */
export function failureTests(use: Use, options: Required<ConformanceOptions>): void {
  const { waitMs, visibilityTimeoutMs } = options;

  it('retries with backoff, then dead-letters with error, stack, attempts, timings and headers', async () => {
    const ctx = use();
    const observed: string[] = [];
    const bus = await ctx.createBus({
      observer: {
        retried: (e) => observed.push(`retried ${e.attempt} after ${e.delayMs}`),
        deadLettered: (e) => observed.push(`dead ${e.reason} ${e.attempts}`),
      },
    });
    const attempts: number[] = [];
    await bus.subscribe(
      'pay.charge',
      (m) => {
        attempts.push(m.attempt);
        throw new Error(`card declined #${m.attempt}`);
      },
      { group: 'payments', retry: fastRetry },
    );
    const sent = await bus.publish(
      'pay.charge',
      { amount: 5 },
      { key: 'o1', headers: { correlationId: 'c-7' } },
    );
    await waitFor(
      'dead letter',
      async () => (await ctx.deadLetters.count({ group: 'payments' })) === 1,
      waitMs,
    );
    expect(attempts).toEqual([1, 2, 3]);
    const [dl] = await ctx.deadLetters.list({ group: 'payments' });
    expect(dl).toMatchObject({
      messageId: sent.id,
      group: 'payments',
      pattern: 'pay.charge',
      topic: 'pay.charge',
      key: 'o1',
      payload: { amount: 5 },
      reason: 'failed',
      attempts: 3,
      publishedAt: sent.publishedAt,
    });
    expect(dl?.headers.correlationId).toBe('c-7');
    expect(dl?.error.message).toBe('card declined #3');
    expect(dl?.error.stack).toContain('card declined #3');
    expect(dl?.lastAttemptAt).toBeGreaterThanOrEqual(dl?.publishedAt ?? 0);
    expect(dl?.deadLetteredAt).toBeGreaterThanOrEqual(dl?.lastAttemptAt ?? 0);
    expect(observed).toEqual(['retried 1 after 20', 'retried 2 after 40', 'dead failed 3']);
    expect(await ctx.deadLetters.get(dl?.id ?? '')).toEqual(dl);
  });

  it('dead-letters a non-retryable error at once', async () => {
    const ctx = use();
    const bus = await ctx.createBus();
    let calls = 0;
    await bus.subscribe(
      'pay.refund',
      () => {
        calls++;
        throw new ValidationError('amount must be positive', [
          { path: 'amount', message: 'must be positive' },
        ]);
      },
      { group: 'refunds', retry: fastRetry },
    );
    await bus.publish('pay.refund', { amount: -1 });
    await waitFor(
      'dead letter',
      async () => (await ctx.deadLetters.count({ group: 'refunds' })) === 1,
      waitMs,
    );
    expect(calls).toBe(1);
    const [dl] = await ctx.deadLetters.list({ group: 'refunds' });
    expect(dl?.error.code).toBe('VALIDATION_FAILED');
  });

  it('sends a payload failing the schema straight to dead letters, never to the handler', async () => {
    const ctx = use();
    const publisher = await ctx.createBus();
    const consumer = await ctx.createBus();
    const schema = z.object({ orderId: z.string(), total: z.number().positive() });
    const handled: unknown[] = [];
    await consumer.subscribe('order.placed', (m) => void handled.push(m.payload), {
      group: 'billing',
      schema,
      retry: fastRetry,
    });
    await publisher.publish('order.placed', { orderId: 'o1', total: -3 });
    await publisher.publish('order.placed', { orderId: 'o2', total: 3, extra: true });
    await waitFor(
      'one handled, one dead',
      async () => handled.length === 1 && (await ctx.deadLetters.count()) === 1,
      waitMs,
    );
    expect(handled).toEqual([{ orderId: 'o2', total: 3 }]);
    const [dl] = await ctx.deadLetters.list();
    expect(dl).toMatchObject({
      reason: 'invalid-payload',
      attempts: 1,
      payload: { orderId: 'o1', total: -3 },
    });
    expect(dl?.error.code).toBe('VALIDATION_FAILED');
    expect(dl?.error.message).toContain('total');
    expect(dl?.error.details).toEqual({ issues: [expect.objectContaining({ path: 'total' })] });
  });

  it('rejects a publish whose payload fails the topic schema, and publishes nothing', async () => {
    const ctx = use();
    const bus = await ctx.createBus({ schemas: { 'user.registered': z.object({ email: z.email() }) } });
    const got: unknown[] = [];
    await bus.subscribe('user.*', (m) => void got.push(m.payload), { group: 'mail' });
    await expect(bus.publish('user.registered', { email: 'nope' })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      issues: [expect.objectContaining({ path: 'email' })],
    });
    await expect(bus.publish('bad topic', {})).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await bus.publish('user.registered', { email: 'a@b.co' });
    await waitFor('valid one', () => got.length === 1, waitMs);
    await pause(150);
    expect(got).toEqual([{ email: 'a@b.co' }]);
  });

  it('replays dead letters (one, by filter, all) to the failed group only, and purges', async () => {
    const ctx = use();
    const bus = await ctx.createBus();
    let healthy = false;
    const handledBy: Record<string, string[]> = { flaky: [], steady: [] };
    await bus.subscribe(
      'inv.*',
      (m) => {
        if (!healthy) throw new Error('downstream unavailable');
        handledBy.flaky?.push(`${m.payload && (m.payload as { n: number }).n}@${m.attempt}`);
      },
      { group: 'flaky', retry: { maxAttempts: 1 } },
    );
    await bus.subscribe('inv.*', (m) => void handledBy.steady?.push(`${(m.payload as { n: number }).n}`), {
      group: 'steady',
    });
    for (let n = 0; n < 4; n++) await bus.publish(n < 3 ? 'inv.reserved' : 'inv.released', { n });
    await waitFor(
      '4 dead letters',
      async () => (await ctx.deadLetters.count({ group: 'flaky' })) === 4,
      waitMs,
    );
    await waitFor('steady handled all', () => handledBy.steady?.length === 4, waitMs);
    healthy = true;
    const n = (d: { payload: unknown }) => (d.payload as { n: number }).n;
    const all = (await ctx.deadLetters.list({ group: 'flaky' })).sort((a, b) => n(a) - n(b));
    expect(all.map(n)).toEqual([0, 1, 2, 3]);

    expect(await ctx.deadLetters.replay({ ids: [all[0]?.id ?? ''] })).toBe(1);
    await waitFor('replayed one', () => handledBy.flaky?.length === 1, waitMs);
    expect(handledBy.flaky).toEqual(['0@1']);
    expect(await ctx.deadLetters.count()).toBe(3);

    expect(await ctx.deadLetters.replay({ topic: 'inv.released' })).toBe(1);
    await waitFor('replayed by filter', () => handledBy.flaky?.length === 2, waitMs);

    expect(await ctx.deadLetters.purge({ ids: [all[1]?.id ?? ''] })).toBe(1);
    expect(await ctx.deadLetters.replay({})).toBe(1);
    await waitFor('replayed rest', () => handledBy.flaky?.length === 3, waitMs);
    await pause(200);
    expect(handledBy.flaky?.sort()).toEqual(['0@1', '2@1', '3@1']);
    expect(handledBy.steady).toHaveLength(4); // other groups are not re-run
    expect(await ctx.deadLetters.count()).toBe(0);
  });

  it('redelivers to another member after a consumer crashes mid-message', async () => {
    const ctx = use();
    const doomed = await ctx.createBus();
    const survivor = await ctx.createBus();
    const started = deferred<Message>();
    await doomed.subscribe(
      'email.send',
      async (m) => {
        started.resolve(m);
        await new Promise(() => {}); // hangs until the process "dies"
      },
      { group: 'mailer', visibilityTimeoutMs },
    );
    const sent = await doomed.publish('email.send', { to: 'x@y.z' }, { key: 'u1' });
    const first = await started.promise;
    expect(first.attempt).toBe(1);
    await ctx.crash(doomed);
    const redelivered: Message[] = [];
    await survivor.subscribe('email.send', (m) => void redelivered.push(m), {
      group: 'mailer',
      visibilityTimeoutMs,
    });
    await waitFor('redelivery', () => redelivered.length === 1, waitMs + visibilityTimeoutMs);
    expect(redelivered[0]?.id).toBe(sent.id);
    expect(redelivered[0]?.attempt).toBe(2);
  });

  it('applies effects exactly once through the inbox despite duplicates and redelivery', async () => {
    const ctx = use();
    const ledger = await ctx.createLedger();
    try {
      const doomed = await ctx.createBus();
      const survivor = await ctx.createBus();
      const committed = deferred();
      await doomed.subscribe(
        'credit.*',
        ledger.handler({
          afterCommit: async () => {
            committed.resolve();
            await new Promise(() => {}); // dies after commit, before the ack
          },
        }),
        { group: 'ledger', visibilityTimeoutMs },
      );
      const first = await doomed.publish('credit.granted', { amount: 1 }, { key: 'acct' });
      await committed.promise;
      await ctx.crash(doomed);
      await survivor.subscribe('credit.*', ledger.handler(), { group: 'ledger', visibilityTimeoutMs });
      // The same id published again (an outbox relay resending after its own crash).
      await survivor.publish('credit.granted', { amount: 1 }, { key: 'acct', id: first.id });
      const second = await survivor.publish('credit.granted', { amount: 2 }, { key: 'acct' });
      await waitFor(
        'second applied',
        async () => (await ledger.applied()).length >= 2,
        waitMs + visibilityTimeoutMs,
      );
      await pause(visibilityTimeoutMs + 300);
      expect(await ledger.applied()).toEqual([
        { group: 'ledger', messageId: first.id },
        { group: 'ledger', messageId: second.id },
      ]);
    } finally {
      await ledger.close();
    }
  });

  it('rolls back the effect with the inbox mark when the handler fails, and applies it on retry', async () => {
    const ctx = use();
    const ledger = await ctx.createLedger();
    try {
      const bus = await ctx.createBus();
      let failures = 0;
      await bus.subscribe(
        'credit.*',
        ledger.handler({
          beforeCommit: () => {
            if (failures++ < 2) throw new Error('constraint violated');
          },
        }),
        { group: 'ledger', retry: fastRetry },
      );
      const sent = await bus.publish('credit.granted', { amount: 1 });
      await waitFor('applied', async () => (await ledger.applied()).length === 1, waitMs);
      await pause(150);
      expect(await ledger.applied()).toEqual([{ group: 'ledger', messageId: sent.id }]);
      expect(failures).toBe(3);
    } finally {
      await ledger.close();
    }
  });

  it('holds later messages of a key while an earlier one is retried', async () => {
    const ctx = use();
    const bus = await ctx.createBus();
    const log: string[] = [];
    let failed = 0;
    await bus.subscribe(
      'seat.*',
      (m) => {
        const { n } = m.payload as { n: number };
        if (n === 0 && failed++ < 2) throw new Error('busy');
        log.push(`${m.key}:${n}`);
      },
      { group: 'seats', retry: fastRetry },
    );
    await bus.publishBatch([
      { topic: 'seat.held', key: 'r1', payload: { n: 0 } },
      { topic: 'seat.held', key: 'r1', payload: { n: 1 } },
      { topic: 'seat.held', key: 'r2', payload: { n: 2 } },
    ]);
    await waitFor('all three', () => log.length === 3, waitMs);
    expect(log.indexOf('r1:0')).toBeLessThan(log.indexOf('r1:1'));
    expect(log.indexOf('r2:2')).toBeLessThan(log.indexOf('r1:0')); // other keys do not wait
  });
}
