/**
 * The console in a real browser against a real shop: `npm start`'s entry point in a child
 * process (embedded mode, free ports, a temporary data directory), Debian's Chromium driven
 * by playwright-core. An operator logs in and sees every instance of the topology healthy,
 * follows an order's trace across gateway, orders, the saga's calls and the bus consumers,
 * makes the card processor fail and watches its breaker open, finds the compensated saga and
 * its timeline, sees the dead-letter alert in the banner, the alert list and at its webhook
 * (a receiver on loopback, Alertmanager's format), and replays a dead letter that then gets
 * handled. Every wait is a condition (no fixed sleeps), with room for a loaded two-core CI
 * machine. Screenshots go to test-artifacts/console.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, repo, type ShopProcess, startShopProcess } from './e2e/shop-process.js';

const artifacts = join(repo, 'test-artifacts', 'console');
const CHROMIUM = '/usr/bin/chromium';
/** Patience for what the UI shows after the system did it (polls every 2–3 s, busy CI). */
const UI = { timeout: 30_000 };

if (process.env.CI === 'true' && !existsSync(CHROMIUM)) {
  throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
}

describe.skipIf(!existsSync(CHROMIUM))('ops console in Chromium against the running shop', () => {
  let shop: ShopProcess;
  let browser: BrowserContext;
  let page: Page;
  let profile: string;
  let tracedOrder: string;
  let webhook: Server;
  /** Bodies the shop's alert webhook received. */
  const notified: Array<{
    status: string;
    alerts: Array<{ status: string; labels: Record<string, string> }>;
  }> = [];

  const shot = (name: string) => page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });

  beforeAll(async () => {
    mkdirSync(artifacts, { recursive: true });
    webhook = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        notified.push(JSON.parse(body));
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => webhook.listen(0, '127.0.0.1', r));
    const hook = `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/alerts`;
    shop = await startShopProcess({ env: { OPS_WEBHOOK_URL: hook } });
    profile = mkdtempSync(join(tmpdir(), 'trellis-chromium-'));
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1400, height: 900 },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    page = browser.pages()[0] ?? (await browser.newPage());
    page.setDefaultTimeout(UI.timeout);
  }, 240_000);

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await shop?.stop();
    await new Promise((r) => (webhook ? webhook.close(r) : r(undefined)));
    if (profile) rmSync(profile, { recursive: true, force: true });
  }, 60_000);

  it('refuses a customer and lets an admin in, with every instance of the topology healthy', async () => {
    await page.goto(`${shop.gateway}/console/`);
    await page.fill('input[name=email]', 'alice@example.com');
    await page.fill('input[name=password]', shop.secrets.demo.alice);
    await page.click('button[type=submit]');
    await expect.poll(() => page.textContent('.login .error'), UI).toContain('administrators only');
    expect((await shop.api('GET', '/api/ops/overview', await shop.login('alice'))).status).toBe(403);

    await page.fill('input[name=email]', 'admin@example.com');
    await page.fill('input[name=password]', shop.secrets.demo.admin);
    await page.click('button[type=submit]');
    // One row per service instance the shop started, and one for the gateway.
    const expected = shop.topology.instances.length + 1;
    const rows = page.locator('table.services tbody tr');
    await expect.poll(() => rows.count(), UI).toBe(expected);
    await expect.poll(() => page.locator('tr[data-health="ready"]').count(), UI).toBe(expected);
    for (const i of shop.topology.instances) {
      const id = i.replica === 0 ? i.service : `${i.service}#${i.replica}`;
      expect(await page.locator(`tr[data-instance="${id}"]`).getAttribute('data-health')).toBe('ready');
    }
    await shot('1-services-healthy');
  });

  it("opens an order's trace: gateway, orders, saga steps calling other services, bus consumers", async () => {
    const alice = await shop.login('alice');
    const order = await shop.placeOrder(alice);
    expect([201, 202]).toContain(order.status);
    tracedOrder = order.body.id as string;
    await shop.orderReaches(alice, tracedOrder, 'shipped');
    // The consumers have run once the customer's notifications are there.
    await eventually(async () => {
      const r = await shop.api('GET', `/api/notifications?orderId=${tracedOrder}`, alice);
      return (r.body.items as unknown[]).length >= 3;
    });

    await page.goto(`${shop.gateway}/console/#/events/${tracedOrder}`);
    await page.locator(`.stream[data-stream="${tracedOrder}"] tr[data-event="OrderShipped"]`).waitFor();
    await page.locator('.stream a', { hasText: 'Trace' }).click();
    const waterfall = page.locator('.waterfall');
    await waterfall.waitFor();
    const rows = waterfall.locator('.span-row');
    await expect.poll(() => rows.count(), UI).toBeGreaterThan(10);
    // The request as it entered: the gateway's span, the orders service's under it.
    const gateway = waterfall.locator('.span-row[data-service="gateway"][data-kind="server"]');
    await expect.poll(() => gateway.count(), UI).toBe(1);
    const gatewayId = await gateway.getAttribute('data-span-id');
    const ordersServer = waterfall.locator(`.span-row[data-service="orders"][data-parent-id="${gatewayId}"]`);
    await expect.poll(() => ordersServer.getAttribute('data-kind'), UI).toBe('server');
    // A saga step that called another service: step → client call → payments' server span.
    const step = waterfall.locator('.span-row[data-span="saga place-order execute chargePayment"]');
    const stepId = await step.getAttribute('data-span-id');
    const call = waterfall.locator(`.span-row[data-kind="client"][data-parent-id="${stepId}"]`);
    await expect.poll(() => call.count(), UI).toBe(1);
    const callId = await call.getAttribute('data-span-id');
    await expect
      .poll(
        () => waterfall.locator(`.span-row[data-service="payments"][data-parent-id="${callId}"]`).count(),
        UI,
      )
      .toBe(1);
    // Bus consumers in the same waterfall: notifications handling the step's OrderPaid event.
    await expect
      .poll(
        () =>
          waterfall
            .locator(
              `.span-row[data-kind="consumer"][data-service="notifications"][data-parent-id="${stepId}"]`,
            )
            .count(),
        UI,
      )
      .toBeGreaterThanOrEqual(1);
    expect(await waterfall.locator('.span-row[data-kind="consumer"]').count()).toBeGreaterThanOrEqual(4);
    await step.locator('button.span-name').click();
    await expect
      .poll(() => waterfall.locator('.span-details').textContent(), UI)
      .toContain('trellis.saga.id');
    await shot('2-order-trace');

    // The trace list shows requests, not the console's own polling or health probes.
    await page.goto(`${shop.gateway}/console/#/traces`);
    const roots = page.locator('table.traces tbody tr td:nth-child(2)');
    await expect.poll(() => roots.count(), UI).toBeGreaterThan(0);
    const names = await roots.allTextContents();
    expect(names.filter((n) => /\/(ops|health|metrics)\b|^GET (ops|console)$/.test(n))).toEqual([]);
  });

  it('shows the card-processor breaker opening when the payment simulator fails', async () => {
    const admin = await shop.login('admin');
    const alice = await shop.login('alice');
    expect((await shop.api('PUT', '/api/admin/processor', admin, { errorRate: 1 })).status).toBe(200);
    await eventually(async () => {
      await shop.placeOrder(alice);
      const r = await shop.api('GET', '/api/ops/breakers', admin);
      const items = r.body.items as Array<{ name: string; state: string }>;
      return items.some((b) => b.name === 'card-processor' && b.state !== 'CLOSED');
    }, 90_000);
    await page.goto(`${shop.gateway}/console/#/services`);
    const breaker = page.locator('tr[data-instance="payments"] li[data-breaker="card-processor"]');
    await expect.poll(() => breaker.getAttribute('data-state'), UI).toMatch(/OPEN/);
    await expect.poll(() => breaker.locator('.transitions li').count(), UI).toBeGreaterThan(0);
    await shot('3-breaker-open');
  });

  it('finds the compensated saga and its timeline', async () => {
    await page.goto(`${shop.gateway}/console/#/sagas`);
    await page.selectOption('select[name=status]', 'compensated');
    const first = page.locator('table.sagas tbody tr[data-status="compensated"]').first();
    await first.waitFor();
    await first.locator('a').click();
    const timeline = page.locator('.saga-timeline[data-status="compensated"]');
    await timeline.waitFor();
    await expect
      .poll(() => timeline.locator('tr[data-step="chargePayment"]').getAttribute('data-status'), UI)
      .toBe('failed');
    await expect
      .poll(() => timeline.locator('tr[data-step="reserveInventory"]').getAttribute('data-status'), UI)
      .toBe('compensated');
    await expect.poll(() => timeline.locator('li[data-kind="saga_compensated"]').count(), UI).toBe(1);
    await shot('4-compensated-saga');
  });

  it('replays a dead letter, which is then handled', async () => {
    const admin = await shop.login('admin');
    const alice = await shop.login('alice');
    expect((await shop.api('PUT', '/api/admin/processor', admin, { errorRate: 0 })).status).toBe(200);
    // Let the breaker close again (probes need calls) before the order whose events will dead-letter.
    await eventually(async () => {
      const r = await shop.api('GET', '/api/ops/breakers', admin);
      const closed = (r.body.items as Array<{ name: string; state: string }>).every(
        (b) => b.name !== 'card-processor' || b.state === 'CLOSED',
      );
      if (!closed) await shop.placeOrder(alice);
      return closed;
    }, 90_000);
    expect((await shop.api('PUT', '/api/ops/faults/notifications', admin, { mode: 'poison' })).status).toBe(
      200,
    );
    const order = await shop.placeOrder(alice);
    const orderId = order.body.id as string;
    await shop.orderReaches(alice, orderId, 'shipped');
    // OrderCreated, ItemAdded, OrderSubmitted, OrderPaid, OrderShipped: all dead-lettered.
    await eventually(async () => {
      const r = await shop.api('GET', `/api/ops/dead-letters?group=notifications&key=${orderId}`, admin);
      return (r.body.items as unknown[]).length >= 5;
    }, 60_000);
    expect((await shop.api('DELETE', '/api/ops/faults/notifications', admin)).status).toBe(200);
    const before = (await shop.api('GET', `/api/notifications?orderId=${orderId}`, alice)).body
      .items as unknown[];

    // New dead letters raise an alert: on every page's banner, in the alert list, at the webhook.
    await page.goto(`${shop.gateway}/console/#/alerts`);
    await expect
      .poll(() => page.locator('.banner').textContent(), UI)
      .toContain('New dead letters in notifications');
    const alert = page.locator(
      'table.alerts tr[data-alert="TrellisDeadLettersGrowing"][data-state="firing"]',
    );
    await expect.poll(() => alert.count(), UI).toBeGreaterThanOrEqual(1);
    await eventually(async () =>
      notified.some((n) =>
        n.alerts.some(
          (a) =>
            a.status === 'firing' &&
            a.labels.alertname === 'TrellisDeadLettersGrowing' &&
            a.labels.group === 'notifications',
        ),
      ),
    );
    await shot('5-dead-letter-alert');

    await page.goto(`${shop.gateway}/console/#/dead-letters`);
    const rows = page.locator(`table.dead-letters tr[data-group="notifications"][data-key="${orderId}"]`);
    await expect.poll(() => rows.count(), UI).toBeGreaterThanOrEqual(5);
    const total = await rows.count();
    // The OrderPaid event: one the customer is notified about.
    await rows.and(page.locator('[data-topic="order.paid"]')).locator('a').click();
    const inspect = page.locator('.inspect');
    await inspect.waitFor();
    await expect.poll(() => inspect.textContent(), UI).toContain('FAULT_INJECTED');
    await shot('6-dead-letter');
    await inspect.locator('button', { hasText: 'Replay' }).click();
    await expect.poll(() => page.textContent('[role=status]'), UI).toContain('Replayed 1');
    await expect.poll(() => rows.count(), UI).toBe(total - 1);
    // Handled: the replayed event became a notification for the customer.
    await eventually(async () => {
      const items = (await shop.api('GET', `/api/notifications?orderId=${orderId}`, alice)).body
        .items as unknown[];
      return items.length === before.length + 1;
    });
    await page.locator('button', { hasText: 'Replay all' }).click();
    await expect
      .poll(() => page.locator('table.dead-letters tr[data-group="notifications"]').count(), UI)
      .toBe(0);
    await eventually(async () => {
      const items = (await shop.api('GET', `/api/notifications?orderId=${orderId}`, alice)).body
        .items as unknown[];
      return items.length === 3; // submitted, paid, shipped
    });
    await shot('7-dead-letters-replayed');
  });
});
