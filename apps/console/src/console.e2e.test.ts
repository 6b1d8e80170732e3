/**
 * The console in a real browser against a real shop: `npm start`'s entry point in a child
 * process (embedded mode, free ports, a temporary data directory), Debian's Chromium driven
 * by playwright-core. An operator logs in, sees every instance healthy, makes the card
 * processor fail and watches its breaker open, finds the compensated saga and its timeline,
 * and replays a dead letter that then gets handled. Screenshots go to test-artifacts/console.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = fileURLToPath(new URL('../../..', import.meta.url));
const artifacts = join(repo, 'test-artifacts', 'console');
const CHROMIUM = '/usr/bin/chromium';
const ADDRESS = {
  name: 'Alice Example',
  line1: 'Keizersgracht 1',
  city: 'Amsterdam',
  postalCode: '1015 AA',
  country: 'NL',
};

if (process.env.CI === 'true' && !existsSync(CHROMIUM)) {
  throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
}

async function eventually<T>(fn: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`not met within ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe.skipIf(!existsSync(CHROMIUM))('ops console in Chromium against the running shop', () => {
  let shop: ChildProcess;
  let dataDir: string;
  let gateway: string;
  let secrets: { demo: { alice: string; admin: string } };
  let browser: BrowserContext;
  let page: Page;
  let profile: string;

  const api = async (method: string, path: string, token?: string, body?: unknown, key?: string) => {
    const res = await fetch(`${gateway}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(key ? { 'idempotency-key': key } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: (await res.json().catch(() => null)) as Record<string, unknown> };
  };
  const login = async (who: 'alice' | 'admin') =>
    (
      await api('POST', '/api/auth/login', undefined, {
        email: `${who}@example.com`,
        password: secrets.demo[who],
      })
    ).body.token as string;
  const placeOrder = async (token: string) =>
    api(
      'POST',
      '/api/orders',
      token,
      {
        items: [{ productId: 'p-espresso-beans', quantity: 1 }],
        paymentMethod: 'pm_card_visa',
        shippingAddress: ADDRESS,
      },
      `e2e-${Date.now()}-${Math.random()}`,
    );
  const shot = (name: string) => page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });

  beforeAll(async () => {
    mkdirSync(artifacts, { recursive: true });
    dataDir = mkdtempSync(join(tmpdir(), 'trellis-console-e2e-'));
    shop = spawn(
      process.execPath,
      [
        '--conditions=source',
        '--import',
        'tsx',
        'apps/shop/src/main.ts',
        '--data-dir',
        dataDir,
        '--port',
        '0',
        '--port-base',
        '0',
      ],
      { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOG_LEVEL: 'warn' } },
    );
    let output = '';
    shop.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    shop.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    await eventually(
      async () =>
        output.includes('is running') || (shop.exitCode !== null && Promise.reject(new Error(output))),
      150_000,
    );
    gateway = (JSON.parse(readFileSync(join(dataDir, 'topology.json'), 'utf8')) as { gatewayUrl: string })
      .gatewayUrl;
    secrets = JSON.parse(readFileSync(join(dataDir, 'secrets.json'), 'utf8'));
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
  }, 180_000);

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    if (shop && shop.exitCode === null) {
      const exited = new Promise((r) => shop.once('exit', r));
      shop.kill('SIGINT');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))]);
      if (shop.exitCode === null) shop.kill('SIGKILL');
    }
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    if (profile) rmSync(profile, { recursive: true, force: true });
  }, 60_000);

  it('refuses a customer and lets an admin in, with every instance healthy', async () => {
    await page.goto(`${gateway}/console/`);
    await page.fill('input[name=email]', 'alice@example.com');
    await page.fill('input[name=password]', secrets.demo.alice);
    await page.click('button[type=submit]');
    await expect.poll(() => page.textContent('.login .error')).toContain('administrators only');
    expect((await api('GET', '/api/ops/overview', await login('alice'))).status).toBe(403);

    await page.fill('input[name=email]', 'admin@example.com');
    await page.fill('input[name=password]', secrets.demo.admin);
    await page.click('button[type=submit]');
    const rows = page.locator('table.services tbody tr');
    await expect.poll(() => rows.count(), { timeout: 20_000 }).toBe(8); // the 7 services and the gateway
    await expect.poll(() => page.locator('tr[data-health="ready"]').count(), { timeout: 20_000 }).toBe(8);
    await shot('1-services-healthy');
  });

  it('shows the card-processor breaker opening when the payment simulator fails', async () => {
    const admin = await login('admin');
    const alice = await login('alice');
    expect((await api('PUT', '/api/admin/processor', admin, { errorRate: 1 })).status).toBe(200);
    await eventually(async () => {
      await placeOrder(alice);
      const r = await api('GET', '/api/ops/breakers', admin);
      const items = r.body.items as Array<{ name: string; state: string }>;
      return items.some((b) => b.name === 'card-processor' && b.state !== 'CLOSED');
    }, 60_000);
    await page.goto(`${gateway}/console/#/services`);
    const breaker = page.locator('tr[data-instance="payments"] li[data-breaker="card-processor"]');
    await expect.poll(() => breaker.getAttribute('data-state'), { timeout: 15_000 }).toMatch(/OPEN/);
    await expect.poll(() => breaker.locator('.transitions li').count()).toBeGreaterThan(0);
    await shot('2-breaker-open');
  });

  it('finds the compensated saga and its timeline', async () => {
    await page.goto(`${gateway}/console/#/sagas`);
    await page.selectOption('select[name=status]', 'compensated');
    const first = page.locator('table.sagas tbody tr[data-status="compensated"]').first();
    await first.waitFor({ timeout: 15_000 });
    await first.locator('a').click();
    const timeline = page.locator('.saga-timeline[data-status="compensated"]');
    await timeline.waitFor();
    await expect
      .poll(() => timeline.locator('tr[data-step="chargePayment"]').getAttribute('data-status'))
      .toBe('failed');
    await expect
      .poll(() => timeline.locator('tr[data-step="reserveInventory"]').getAttribute('data-status'))
      .toBe('compensated');
    expect(await timeline.locator('li[data-kind="saga_compensated"]').count()).toBe(1);
    await shot('3-compensated-saga');
  });

  it('replays a dead letter, which is then handled', async () => {
    const admin = await login('admin');
    const alice = await login('alice');
    expect((await api('PUT', '/api/admin/processor', admin, { errorRate: 0 })).status).toBe(200);
    // Let the breaker close again before placing the order whose events will dead-letter.
    await eventually(async () => {
      const r = await api('GET', '/api/ops/breakers', admin);
      return (
        (r.body.items as Array<{ name: string; state: string }>).every(
          (b) => b.name !== 'card-processor' || b.state === 'CLOSED',
        ) || (await placeOrder(alice), false)
      );
    }, 60_000);
    expect((await api('PUT', '/api/ops/faults/notifications', admin, { mode: 'poison' })).status).toBe(200);
    const order = await placeOrder(alice);
    expect(order.body.status).toBe('shipped');
    const orderId = order.body.id as string;
    await eventually(async () => {
      const r = await api('GET', '/api/ops/dead-letters?group=notifications', admin);
      return (r.body.items as Array<{ key?: string }>).filter((d) => d.key === orderId).length >= 3;
    });
    expect((await api('DELETE', '/api/ops/faults/notifications', admin)).status).toBe(200);
    const before = (await api('GET', `/api/notifications?orderId=${orderId}`, alice)).body.items as unknown[];

    await page.goto(`${gateway}/console/#/dead-letters`);
    const rows = page.locator('table.dead-letters tr[data-group="notifications"]');
    await expect.poll(() => rows.count(), { timeout: 15_000 }).toBeGreaterThanOrEqual(3);
    await rows.first().locator('a').click();
    const inspect = page.locator('.inspect');
    await inspect.waitFor();
    expect(await inspect.textContent()).toContain('FAULT_INJECTED');
    await shot('4-dead-letter');
    const total = await rows.count();
    await inspect.locator('button', { hasText: 'Replay' }).click();
    await expect.poll(() => page.textContent('[role=status]')).toContain('Replayed 1');
    await expect.poll(() => rows.count(), { timeout: 15_000 }).toBe(total - 1);
    // Handled: the replayed event became a notification for the customer.
    await eventually(async () => {
      const items = (await api('GET', `/api/notifications?orderId=${orderId}`, alice)).body
        .items as unknown[];
      return items.length === before.length + 1;
    });
    await page.locator('button', { hasText: 'Replay all' }).click();
    await expect.poll(() => rows.count(), { timeout: 15_000 }).toBe(0);
    await shot('5-dead-letters-replayed');
  });
});
