/**
 * The ops console's API in distributed mode: the shop on real PostgreSQL, NATS JetStream and
 * Redis (from the test harness), every service its own process, orders and notifications with
 * two replicas each. The aggregator (in the gateway process, which has no database) lists
 * every replica with its own health and breakers, read from each replica's ops API; and a
 * dead letter replayed through it — written back into the notifications database's outbox —
 * is published and handled.
 */
import { IDENTITY_TOKEN_HEADER, InternalTokenSigner } from '@trellis/service';
import { serverUrl } from '@trellis/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, type ShopProcess, startShopProcess } from './e2e/shop-process.js';

const postgres = serverUrl('postgres');
const nats = serverUrl('nats');
const redis = serverUrl('redis');

interface Instance {
  id: string;
  service: string;
  up: boolean;
  info: { instance: string; pid: number; health: { status: string } } | null;
  breakers: Array<{ name: string; state: string }>;
}

describe.skipIf(!postgres || !nats || !redis)('ops console API in distributed mode', () => {
  let shop: ShopProcess;
  let admin: string;

  beforeAll(async () => {
    shop = await startShopProcess({
      args: [
        '--distributed',
        '--replicas',
        'orders=2,notifications=2',
        '--db-prefix',
        `console_${process.pid}_${Date.now()}`,
      ],
      env: { DATABASE_URL: postgres, NATS_URL: nats, REDIS_URL: redis },
    });
    expect(shop.topology.mode).toBe('distributed');
    admin = await shop.login('admin');
  }, 240_000);

  afterAll(async () => {
    await shop?.stop();
  }, 60_000);

  it('lists every replica of a replicated service with its own health and breakers', async () => {
    const ids = [
      ...shop.topology.instances.map((i) => (i.replica === 0 ? i.service : `${i.service}#${i.replica}`)),
      'gateway',
    ];
    expect(ids).toEqual(expect.arrayContaining(['orders', 'orders#1', 'notifications', 'notifications#1']));
    // Calls through the orders replicas give their clients' breakers something to count.
    const alice = await shop.login('alice');
    const placed = await Promise.all([1, 2, 3, 4].map(() => shop.placeOrder(alice)));
    for (const p of placed) await shop.orderReaches(alice, p.body.id as string, 'shipped');

    const instances = await eventually(async () => {
      const r = await shop.api('GET', '/api/ops/overview', admin);
      const list = r.body.instances as Instance[];
      const ready = list.filter((i) => i.up && i.info?.health.status === 'ready');
      const withBreakers = list.filter((i) => i.service === 'orders' && i.breakers.length > 0);
      return ready.length === ids.length && withBreakers.length === 2 && list;
    }, 60_000);
    expect(instances.map((i) => i.id).sort()).toEqual([...ids].sort());
    const replicas = instances.filter((i) => i.service === 'orders');
    // Each row is what that replica said about itself, not a copy of another's.
    expect(replicas.map((i) => i.info?.instance)).toEqual(['orders', 'orders#1']);
    expect(new Set(replicas.map((i) => i.info?.pid)).size).toBe(2);
    for (const r of replicas)
      expect(r.breakers.map((b) => b.name)).toEqual(expect.arrayContaining(['payments']));

    // The same answer the replica gives when asked directly, on its own port.
    const token = await new InternalTokenSigner({ key: shop.secrets.internalTokenSecret }).sign({
      subject: 'e2e',
      kind: 'service',
      scopes: [],
      roles: ['ops'],
    });
    for (const i of shop.topology.instances.filter((x) => x.service === 'orders')) {
      const res = await fetch(`${i.url}/ops/info`, { headers: { [IDENTITY_TOKEN_HEADER]: token } });
      expect(res.status).toBe(200);
      const own = (await res.json()) as { instance: string; pid: number };
      expect(replicas.find((r) => r.id === own.instance)?.info?.pid).toBe(own.pid);
    }
    // One order's trace, its spans recorded by several processes, merged into one waterfall.
    const orderId = placed[0]?.body.id as string;
    const { traceId } = (await shop.api('GET', `/api/ops/sagas/order-${orderId}`, admin)).body as {
      traceId: string;
    };
    const spans = await eventually(async () => {
      const r = (await shop.api('GET', `/api/ops/traces/${traceId}`, admin)).body.spans as Array<{
        service: string;
        kind: string;
        name: string;
      }>;
      return r.some((x) => x.service === 'notifications' && x.kind === 'consumer') && r;
    }, 30_000);
    expect(new Set(spans.map((x) => x.service))).toEqual(
      new Set(['gateway', 'orders', 'catalog', 'inventory', 'payments', 'shipping', 'notifications']),
    );
    expect(spans.filter((x) => x.name.startsWith('saga place-order execute')).length).toBeGreaterThanOrEqual(
      4,
    );
    const breakers = (await shop.api('GET', '/api/ops/breakers', admin)).body.items as Array<{
      instance: string;
    }>;
    expect(breakers.some((b) => b.instance === 'orders')).toBe(true);
    expect(breakers.some((b) => b.instance === 'orders#1')).toBe(true);
  });

  it('replays dead letters of the notifications service, which are then delivered and handled', async () => {
    const alice = await shop.login('alice');
    const armed = await shop.api('PUT', '/api/ops/faults/notifications', admin, { mode: 'poison' });
    expect(armed.status).toBe(200);
    // Both replicas consume the group: both are armed.
    expect((armed.body.instances as string[]).sort()).toEqual(['notifications', 'notifications#1']);
    const order = await shop.placeOrder(alice);
    const orderId = order.body.id as string;
    await shop.orderReaches(alice, orderId, 'shipped');
    const deadLetters = async () =>
      (await shop.api('GET', `/api/ops/dead-letters?service=notifications&key=${orderId}`, admin)).body;
    // Every event of the order dead-lettered, into the notifications service's own database.
    await eventually(async () => (await deadLetters()).total === 5, 60_000);
    const listed = (await deadLetters()).items as Array<{
      service: string;
      group: string;
      transport: string;
    }>;
    expect(listed.map((d) => [d.service, d.group])).toEqual(
      Array(5).fill(['notifications', 'notifications']),
    );
    expect(listed.map((d) => d.transport)).toEqual(Array(5).fill('jetstream'));
    expect((await shop.api('DELETE', '/api/ops/faults/notifications', admin)).status).toBe(200);
    expect((await shop.api('GET', `/api/notifications?orderId=${orderId}`, alice)).body.items).toEqual([]);

    const replay = await shop.api('POST', '/api/ops/dead-letters/replay', admin, {
      service: 'notifications',
      key: orderId,
    });
    expect(replay).toEqual({ status: 200, body: { replayed: 5 } });
    expect((await deadLetters()).total).toBe(0);
    // Out through the notifications outbox, over NATS, into a replica's handler.
    const handled = await eventually(async () => {
      const items = (await shop.api('GET', `/api/notifications?orderId=${orderId}`, alice)).body
        .items as Array<{
        kind: string;
      }>;
      return items.length === 3 && items;
    }, 60_000);
    expect(handled.map((n) => n.kind).sort()).toEqual(['OrderPaid', 'OrderShipped', 'OrderSubmitted']);
    // Nothing was left behind in the outbox.
    await eventually(async () => {
      const charts = await shop.api('GET', '/api/ops/charts?minutes=1', admin);
      const last = (charts.body.points as Array<{ outbox: Record<string, number> }>).at(-1);
      return last?.outbox.notifications === 0;
    }, 30_000);
  });
});
