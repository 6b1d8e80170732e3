import { isValidationError, type ValidationError } from '@trellis/core';
import { expect, it } from 'vitest';
import { z } from 'zod';
import type { NewEvent } from '../domain-event.js';
import { isUnknownEventTypeError, isUpcastError } from '../errors.js';
import { defineEvents } from '../event-registry.js';
import type { TransactionContext } from '../event-store.js';
import type { ConformanceContext } from './harness.js';

const v2 = z.object({ productId: z.string(), quantity: z.number().int().positive(), unitPrice: z.number() });
const registry = () =>
  defineEvents({
    ItemAdded: {
      schema: z.object({
        productId: z.string(),
        quantity: z.number().int().positive(),
        unitPrice: z.number(),
        currency: z.string(),
      }),
      version: 3,
      upcasters: {
        1: (p) => ({ ...(p as object), unitPrice: 0 }),
        2: (p) => ({ ...(v2.parse(p) as object), currency: 'EUR' }),
      },
    },
    OrderSubmitted: z.object({}),
  });

/** Bad input: typed errors naming the field, and nothing written. Plus upcasting on read. */
export function validationTests<Tx extends TransactionContext>(ctx: ConformanceContext<Tx>): void {
  const nothingWritten = async () => {
    expect(await ctx.store.headPosition()).toBe(0);
    expect(await ctx.store.readAll()).toEqual([]);
  };

  it('rejects malformed append arguments with a ValidationError naming the field', async () => {
    const { store } = ctx;
    const cases: Array<[() => Promise<unknown>, string]> = [
      [() => store.append('', [{ eventType: 'A', payload: {} }]), 'streamId'],
      [() => store.append('s', [{ eventType: '', payload: {} }]), 'events.0.eventType'],
      [() => store.append('s', [{ eventType: 'A' } as NewEvent]), 'events.0.payload'],
      [
        () => store.append('s', [{ eventType: 'A', payload: {}, schemaVersion: '2' as unknown as number }]),
        'events.0.schemaVersion',
      ],
      [
        () => store.append('s', [{ eventType: 'A', payload: {}, timestamp: new Date('nope') }]),
        'events.0.timestamp',
      ],
      [
        () => store.append('s', [{ eventType: 'A', payload: {} }], { expectedVersion: 'abc' as never }),
        'expectedVersion',
      ],
      [
        () => store.append('s', [{ eventType: 'A', payload: {} }], { expectedVersion: -1 }),
        'expectedVersion',
      ],
      [
        () => store.append('s', [{ eventType: 'A', payload: {} }], { expectedVersion: 1.5 }),
        'expectedVersion',
      ],
      [
        () => store.append('s', [{ eventType: 'A', payload: {} }], { expectedVersion: Number.NaN }),
        'expectedVersion',
      ],
      [
        () => store.append('s', [{ eventType: 'A', payload: {} }], { expectedVersion: '1' as never }),
        'expectedVersion',
      ],
    ];
    for (const [call, field] of cases) {
      const err = (await call().catch((e) => e)) as ValidationError;
      expect(isValidationError(err), field).toBe(true);
      expect(err.status).toBe(400);
      expect(err.issues.map((i: { path: string }) => i.path)).toContain(field);
    }
    await nothingWritten();
  });

  it('rejects non-numeric read arguments', async () => {
    const { store } = ctx;
    for (const call of [
      () => store.getEvents('s', Number.NaN),
      () => store.getEvents('s', -1),
      () => store.getEvents('s', '2' as unknown as number),
      () => store.readAll(1.5),
      () => store.readAll(0, -5),
    ]) {
      expect(isValidationError(await call().catch((e) => e))).toBe(true);
    }
  });

  it('rejects unknown event types from the registry and writes nothing, not even the valid events', async () => {
    const store = await ctx.storage.open({ registry: registry() });
    const err = await store
      .append('order-1', [
        { eventType: 'OrderSubmitted', payload: {} },
        { eventType: 'OrderTeleported', payload: {} },
      ])
      .catch((e) => e);
    expect(isUnknownEventTypeError(err)).toBe(true);
    expect(err).toMatchObject({
      status: 400,
      eventType: 'OrderTeleported',
      details: { path: 'events.1.eventType' },
    });
    await nothingWritten();
  });

  it('rejects a malformed payload naming the field, and writes nothing', async () => {
    const store = await ctx.storage.open({ registry: registry() });
    const good = { productId: 'p1', quantity: 1, unitPrice: 5, currency: 'EUR' };
    const err = await store
      .append('order-1', [
        { eventType: 'ItemAdded', payload: good },
        { eventType: 'ItemAdded', payload: { ...good, quantity: 'two' } },
      ])
      .catch((e) => e);
    expect(isValidationError(err)).toBe(true);
    expect(err.issues[0].path).toBe('events.1.payload.quantity');
    const wrongVersion = await store
      .append('order-1', [{ eventType: 'ItemAdded', payload: good, schemaVersion: 1 }])
      .catch((e) => e);
    expect(wrongVersion.issues[0].path).toBe('events.0.schemaVersion');
    await nothingWritten();
  });

  it('stores the parsed payload (unknown keys stripped) at the current schema version', async () => {
    const store = await ctx.storage.open({ registry: registry() });
    await store.append('o', [
      {
        eventType: 'ItemAdded',
        payload: { productId: 'p', quantity: 1, unitPrice: 2, currency: 'USD', extra: true },
      },
    ]);
    const [e] = await store.getEvents('o');
    expect(e?.payload).toEqual({ productId: 'p', quantity: 1, unitPrice: 2, currency: 'USD' });
    expect(e?.schemaVersion).toBe(3);
  });

  it('upcasts older events step by step on every read path', async () => {
    // An older deployment (no registry) wrote v1 and v2 payloads.
    await ctx.store.append('o', [
      { eventType: 'ItemAdded', payload: { productId: 'p1', quantity: 1 }, schemaVersion: 1 },
      { eventType: 'ItemAdded', payload: { productId: 'p2', quantity: 2, unitPrice: 9 }, schemaVersion: 2 },
      { eventType: 'Unregistered', payload: { keep: 'as is' }, schemaVersion: 7 },
    ]);
    const store = await ctx.storage.open({ registry: registry() });
    const expected = [
      { schemaVersion: 3, payload: { productId: 'p1', quantity: 1, unitPrice: 0, currency: 'EUR' } },
      { schemaVersion: 3, payload: { productId: 'p2', quantity: 2, unitPrice: 9, currency: 'EUR' } },
      { schemaVersion: 7, payload: { keep: 'as is' } },
    ];
    expect(await store.getEvents('o')).toMatchObject(expected);
    expect(await store.readAll()).toMatchObject(expected);
  });

  it('fails reads of events it cannot upcast with a typed UpcastError', async () => {
    await ctx.store.append('o', [{ eventType: 'OrderSubmitted', payload: {}, schemaVersion: 2 }]);
    const store = await ctx.storage.open({ registry: registry() });
    const err = await store.getEvents('o').catch((e) => e);
    expect(isUpcastError(err)).toBe(true);
    expect(err.message).toContain('newer than the known v1');
  });
}
