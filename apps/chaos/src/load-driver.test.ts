import { createServer, type Server } from 'node:http';
import { ShopApi } from '@trellis/shop';
import { afterEach, describe, expect, it } from 'vitest';
import { LoadDriver } from './load-driver.js';

let server: Server | undefined;
afterEach(async () => {
  await new Promise((r) => server?.close(r));
  server = undefined;
});

/**
 * A stand-in for the gateway's `POST /api/orders` on real loopback HTTP: every order ships at
 * once (the driver's bounding and bookkeeping are under test here, not the shop).
 */
async function ordersEndpoint(): Promise<{ url: string; received: () => number }> {
  let received = 0;
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received++;
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: `order-${received}`, status: 'shipped' }));
    });
  });
  await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, received: () => received };
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(condition()).toBe(true);
}

describe('LoadDriver', () => {
  it('bounds the orders of each phase, so a busy phase leaves the next one its own load', async () => {
    const endpoint = await ordersEndpoint();
    const driver = new LoadDriver({
      customers: [new ShopApi(endpoint.url, 'token')],
      products: ['p1', 'p2'],
      concurrency: 3,
      maxOrders: 5,
    });
    driver.setPhase('fault');
    driver.start();
    await until(() => driver.records.length === 5);
    expect(driver.capped).toEqual(['fault']);
    driver.setPhase('recovery');
    await until(() => driver.records.length === 10);
    await driver.stop();
    const phases = driver.records.map((r) => r.phase);
    expect(phases.filter((p) => p === 'fault')).toHaveLength(5);
    expect(phases.filter((p) => p === 'recovery')).toHaveLength(5);
    expect(endpoint.received()).toBe(10);
    expect(driver.capped).toEqual(['fault', 'recovery']);
    expect(driver.records.every((r) => r.outcome === 'completed' && r.requests === 1)).toBe(true);
    expect(driver.acceptedOrderIds).toHaveLength(10);
  });
});
