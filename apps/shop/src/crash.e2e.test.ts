/**
 * Crash proof, distributed mode: real PostgreSQL, NATS JetStream and Redis (from the test
 * harness), two replicas of orders behind the gateway. During a bounded load, service
 * processes are killed with SIGKILL — an orders replica driving sagas, and payments in the
 * middle of charges — and the supervisor restarts them. Afterwards every invariant holds:
 * no order lost, every saga terminal, no double charge, stock conserved, read model and
 * notifications complete.
 */
import { serverUrl } from '@trellis/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestShop, type TestShop } from './e2e/test-shop.js';
import { checkInvariants, formatInvariantReport } from './invariants/check-invariants.js';
import { formatLoadResult, runLoad } from './load/load-run.js';

const postgres = serverUrl('postgres');
const nats = serverUrl('nats');
const redis = serverUrl('redis');

describe.skipIf(!postgres || !nats || !redis)('a service SIGKILLed during load (distributed)', () => {
  let t: TestShop;

  beforeAll(async () => {
    t = await startTestShop({
      mode: 'distributed',
      env: { ...process.env, DATABASE_URL: postgres, NATS_URL: nats, REDIS_URL: redis },
      databasePrefix: `crash_${process.pid}_${Date.now()}`,
      replicas: { orders: 2 },
    });
  });

  afterAll(async () => {
    await t?.stop();
  });

  it('keeps every invariant when orders and payments processes are killed mid-load', async () => {
    const { supervisor } = t.shop;
    const orders = supervisor.process('orders', 0);
    const payments = supervisor.process('payments', 0);
    const total = 120;
    const kills: Promise<void>[] = [];
    const killAt = (done: number, target: typeof orders, after: number) => {
      if (done !== after) return;
      target.signal('SIGKILL');
      kills.push(target.whenReady());
    };
    const result = await runLoad({
      gatewayUrl: t.shop.topology.gatewayUrl,
      orders: total,
      concurrency: 8,
      users: 4,
      declineRate: 0.1,
      adminPassword: t.shop.secrets.demo.admin,
      progress: false,
      onOrder: (done) => {
        killAt(done, orders, 30);
        killAt(done, payments, 70);
      },
    });
    await Promise.all(kills);
    expect(orders.restarts).toBeGreaterThanOrEqual(1);
    expect(payments.restarts).toBeGreaterThanOrEqual(1);
    expect(result.attempted).toBe(total);
    // Requests cut off by a kill may fail; the orders the API accepted must all settle.
    expect(result.acceptedOrderIds.length).toBeGreaterThan(total / 2);

    const report = await checkInvariants({
      topology: t.shop.topology,
      expectedOrderIds: result.acceptedOrderIds,
      settleMs: 120_000,
    });
    expect(
      report.violations,
      `${formatLoadResult(result, 'load')}\n${formatInvariantReport(report)}`,
    ).toEqual([]);
    expect(report.counts.sagasByStatus.running ?? 0).toBe(0);
  });
});
