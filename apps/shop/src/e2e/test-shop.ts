/**
 * Starts a real shop for end-to-end tests: every service and the gateway as child processes
 * on free loopback ports, in a temporary data directory, with helpers to log in and sign up
 * through the gateway. Nothing is mocked.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO_USERS } from '../demo-data.js';
import { ShopApi } from '../load/shop-api.js';
import { type RunningShop, type StartShopOptions, startShop } from '../supervisor/start-shop.js';

/** A shop under test. */
export interface TestShop {
  shop: RunningShop;
  api: ShopApi;
  dataDir: string;
  /** Logs in as a demo user. */
  login(who: keyof typeof DEMO_USERS): Promise<ShopApi>;
  /** Signs up a new customer; returns its API client and id. */
  signup(): Promise<{ api: ShopApi; userId: string; email: string }>;
  /** Stops the shop (and keeps or deletes the data directory). */
  stop(options?: { keepData?: boolean }): Promise<void>;
}

/** Starts a shop for a test file. */
export async function startTestShop(options: Partial<StartShopOptions> = {}): Promise<TestShop> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'trellis-shop-'));
  const shop = await startShop({
    dataDir,
    gatewayPort: 0,
    portBase: 0,
    logLevel: 'info',
    ...options,
  });
  const api = new ShopApi(shop.topology.gatewayUrl);
  return {
    shop,
    api,
    dataDir,
    async login(who) {
      const { token } = await api.login(DEMO_USERS[who].email, shop.secrets.demo[who]);
      return api.as(token);
    },
    async signup() {
      const email = `user-${randomBytes(6).toString('hex')}@example.test`;
      const { token, userId } = await api.signup(email, randomBytes(12).toString('base64url'), 'Test User');
      return { api: api.as(token), userId, email };
    },
    async stop(o = {}) {
      await shop.stop();
      if (!o.keepData && !options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls `fn` until it returns a truthy value (or throws after `timeoutMs`). */
export async function eventually<T>(
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`condition not met within ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
