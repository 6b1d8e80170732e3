/**
 * The reference shop as the console's end-to-end tests use it: `npm start`'s entry point in a
 * child process (free ports, a temporary data directory), found through the `topology.json`
 * and `secrets.json` it writes, and driven through the gateway only — the same door the
 * console uses. Waits are conditions polled until they hold, never fixed sleeps.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const repo = fileURLToPath(new URL('../../../..', import.meta.url));

/** A demo shipping address. */
export const ADDRESS = {
  name: 'Alice Example',
  line1: 'Keizersgracht 1',
  city: 'Amsterdam',
  postalCode: '1015 AA',
  country: 'NL',
};

/**
 * Polls `fn` until it returns something truthy.
 *
 * Throws after `timeoutMs` with the last error `fn` threw.
 */
export async function eventually<T>(
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 30_000,
  pollMs = 200,
): Promise<T> {
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
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** What `topology.json` says (the parts tests read). */
export interface Topology {
  mode: 'embedded' | 'distributed';
  gatewayUrl: string;
  instances: Array<{ service: string; replica: number; url: string }>;
}

/** An answer of the gateway. */
export interface Answer {
  status: number;
  body: Record<string, unknown>;
}

/** A running shop. */
export interface ShopProcess {
  readonly gateway: string;
  readonly topology: Topology;
  readonly secrets: { internalTokenSecret: string; demo: { alice: string; admin: string } };
  /** A request through the gateway. */
  api(method: string, path: string, token?: string, body?: unknown, key?: string): Promise<Answer>;
  /** A JWT of a demo user. */
  login(who: 'alice' | 'admin'): Promise<string>;
  /** Places a one-item order as `token`'s user (a fresh idempotency key). */
  placeOrder(token: string): Promise<Answer>;
  /** Waits until the order reached `status` (shipped, cancelled). */
  orderReaches(token: string, id: string, status: string, timeoutMs?: number): Promise<void>;
  /** Everything the shop printed. */
  output(): string;
  /** Stops the shop (Ctrl-C, then SIGKILL if it hangs) and removes its data directory. */
  stop(): Promise<void>;
}

/**
 * Starts the shop with extra command-line `args` (e.g. `--distributed`) and environment.
 *
 * Throws when it exits or does not say it is running within `timeoutMs`.
 */
export async function startShopProcess(
  options: { args?: string[]; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<ShopProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), 'trellis-console-e2e-'));
  const child: ChildProcess = spawn(
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
      ...(options.args ?? []),
    ],
    {
      cwd: repo,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LOG_LEVEL: 'warn', ...options.env },
    },
  );
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGINT');
      // A bounded wait for a graceful stop; a hung shop must not hang the test run.
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await eventually(async () => {
      if (child.exitCode !== null) throw new Error(`the shop exited (${child.exitCode}):\n${output}`);
      return output.includes('is running');
    }, options.timeoutMs ?? 200_000);
  } catch (error) {
    await stop();
    throw error;
  }
  const topology = JSON.parse(readFileSync(join(dataDir, 'topology.json'), 'utf8')) as Topology;
  const secrets = JSON.parse(readFileSync(join(dataDir, 'secrets.json'), 'utf8')) as ShopProcess['secrets'];
  const gateway = topology.gatewayUrl;
  const api: ShopProcess['api'] = async (method, path, token, body, key) => {
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
  return {
    gateway,
    topology,
    secrets,
    api,
    async login(who) {
      const res = await api('POST', '/api/auth/login', undefined, {
        email: `${who}@example.com`,
        password: secrets.demo[who],
      });
      if (res.status !== 200) throw new Error(`login as ${who}: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body.token as string;
    },
    placeOrder: (token) =>
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
      ),
    async orderReaches(token, id, status, timeoutMs = 60_000) {
      await eventually(async () => {
        const res = await api('GET', `/api/orders/${id}`, token);
        if (res.body?.status !== status && ['shipped', 'cancelled'].includes(String(res.body?.status)))
          throw new Error(`order ${id} ended ${String(res.body?.status)}, not ${status}`);
        return res.body?.status === status;
      }, timeoutMs);
    },
    output: () => output,
    stop,
  };
}
