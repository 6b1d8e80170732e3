/**
 * One full run of the shop for the secrets test: started the way an operator would (secrets in
 * the supervisor's environment), every service instance behind a token tap, debug logs; every
 * flow driven; canaries planted through each capture path; then everything captured — answers,
 * ops and traces, tables, data-directory files, the JetStream store, Redis — and the secrets
 * the run knows, with each process's environment as the kernel shows it.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { OpenAISimulator } from '@trellis/agent/testing';
import { type ServerHandle, startNats, startRedis } from '@trellis/testing';
import { expect } from 'vitest';
import { DEMO_ADDRESS } from '../demo-data.js';
import { eventually, startTestShop, type TestShop } from '../e2e/test-shop.js';
import { fingerprintKeyOf } from '../platform/shop-service.js';
import { assistantFlows, opsEvidence } from './secrets-assistant.js';
import {
  type Evidence,
  filesUnder,
  redisContents,
  type TokenTap,
  tableContents,
  tapEveryInstance,
} from './secrets-capture.js';
import { type FlowUser, RecordingClient, userAndCardFlows } from './secrets-flows.js';
import type { KnownSecret } from './secrets-scan.js';
import { closeAll, databasesOf } from './state-snapshot.js';

export interface SecretsRun {
  evidence: Evidence[];
  secrets: KnownSecret[];
  canaries: { log: string; trace: string; table: string; event: string };
  internalTokens: string[];
  internalSecret: string;
  /** Each process's environment, as the kernel shows it (`/proc/<pid>/environ`). */
  environs: Record<string, Record<string, string>>;
  /** The dead letter made on purpose (its id). */
  deadLetterId: string;
  users: FlowUser[];
  mode: 'embedded' | 'distributed';
}

/**
 * Starts a shop (distributed: on `postgres`, and a NATS and a Redis of its own, so their stores
 * can be read), drives every flow, stops it, and captures everything it left.
 */
export async function runShopForSecrets(
  mode: 'embedded' | 'distributed',
  postgres?: string,
): Promise<SecretsRun> {
  const modelKey = `sk-trellis-${randomBytes(16).toString('hex')}`;
  const sim = await OpenAISimulator.start({ apiKey: modelKey });
  const taps: TokenTap[] = [];
  const lines: string[] = [];
  let nats: ServerHandle | undefined;
  let redis: ServerHandle | undefined;
  let t: TestShop | undefined;
  try {
    if (mode === 'distributed') [nats, redis] = await Promise.all([startNats(), startRedis()]);
    // Configured the way an operator would (`JWT_SECRET=… OPENAI_API_KEY=… npm start`): in the
    // supervisor's own environment, which the children must not all inherit.
    const operatorEnv: Record<string, string> = {
      JWT_SECRET: `jwt-${randomBytes(24).toString('hex')}`,
      INTERNAL_TOKEN_SECRET: `internal-${randomBytes(24).toString('hex')}`,
      TRELLIS_AGENT_PROVIDER: 'openai',
      OPENAI_API_KEY: modelKey,
      OPENAI_BASE_URL: sim.url,
      OPENAI_MODEL: 'gpt-simulated',
    };
    const previous = Object.fromEntries(Object.keys(operatorEnv).map((k) => [k, process.env[k]]));
    Object.assign(process.env, operatorEnv);
    t = await startTestShop({
      mode,
      // Debug is the most a process ever says: no secret at that level either.
      logLevel: 'debug',
      echo: (id, line) => lines.push(`${id} ${line}`),
      adaptTopology: (topology) => tapEveryInstance(topology, taps),
      ...(mode === 'distributed'
        ? {
            env: { ...process.env, DATABASE_URL: postgres, NATS_URL: nats?.url, REDIS_URL: redis?.url },
            databasePrefix: `secrets_${process.pid}_${Date.now()}`,
          }
        : {}),
    }).finally(() => {
      for (const [k, v] of Object.entries(previous)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    });
    const shop = t.shop;
    expect(shop.secrets.jwtSecret).toBe(operatorEnv.JWT_SECRET);
    const environs = Object.fromEntries(shop.supervisor.all.map((p) => [p.spec.id, environOf(p.pid)]));
    const http = new RecordingClient(shop.topology.gatewayUrl);
    const flows = await userAndCardFlows(http, shop.secrets);
    const first = flows.users[0] as FlowUser;
    const assistant = await assistantFlows(http, sim, first, modelKey);

    // The failure paths: payments hangs (SIGSTOP) while an order is charged to a saved card and
    // its owner lists their cards. Timeouts, retries, breakers and compensation all log.
    const payments = shop.supervisor.process('payments');
    payments.signal('SIGSTOP');
    let stalled: Promise<unknown> | undefined;
    try {
      stalled = http.call('POST', '/api/orders', {
        token: first.token,
        headers: { 'idempotency-key': randomUUID() },
        body: {
          items: [{ productId: 'p-mug', quantity: 1 }],
          shippingAddress: DEMO_ADDRESS,
          paymentMethod: flows.methods[0],
        },
      });
      // The gateway gives up on the hung instance (its timeout, or no healthy instance left).
      const hung = await http.call('GET', '/api/payment-methods', { token: first.token });
      expect(hung.status).toBeGreaterThanOrEqual(500);
    } finally {
      payments.signal('SIGCONT');
    }
    await stalled;
    await payments.whenReady();

    // Canaries, each planted through one capture path the secrets are searched in.
    const canaries = {
      log: `canary-log-${randomBytes(8).toString('hex')}`,
      trace: `p-canary-trace-${randomBytes(8).toString('hex')}`,
      table: `Canary Table ${randomBytes(8).toString('hex')}`,
      event: `Canary Event ${randomBytes(8).toString('hex')}`,
    };
    await http.call('GET', `/api/products?q=${canaries.log}`); // the access log writes the URL
    await http.call('GET', `/api/products/${canaries.trace}`); // the server span records the path
    await http.call('PATCH', '/api/users/me', { token: first.token, body: { name: canaries.table } });
    await http.call('POST', '/api/orders', {
      token: first.token,
      headers: { 'idempotency-key': randomUUID() },
      body: {
        items: [{ productId: 'p-mug', quantity: 1 }],
        shippingAddress: { ...DEMO_ADDRESS, name: canaries.event },
        paymentMethod: 'pm_card_visa',
      },
    });
    // Everything settles (notifications are the last consumer) before anything is read.
    await eventually(async () => {
      const n = await http.call('GET', '/api/notifications?limit=100', { token: first.token });
      return n.text.includes('on its way') && (n.json as { items: unknown[] }).items.length >= 6;
    }, 120_000);
    // A dead letter, so the dead-letter tables are searched with something in them: the
    // notifications group fails its next message for good (a poison fault, as operators arm it).
    await http.call('PUT', '/api/ops/faults/notifications', {
      token: flows.admin,
      body: { mode: 'poison', remaining: 1 },
    });
    // An order makes sure a message comes; whichever comes first (events of earlier orders may
    // still be on their way) is the one dead-lettered.
    await http.call('POST', '/api/orders', {
      token: first.token,
      headers: { 'idempotency-key': randomUUID() },
      body: {
        items: [{ productId: 'p-mug', quantity: 1 }],
        shippingAddress: DEMO_ADDRESS,
        paymentMethod: 'pm_card_visa',
      },
    });
    const deadLetterId = await eventually(async () => {
      const d = await http.call('GET', '/api/ops/dead-letters?limit=100', { token: flows.admin });
      return (d.json as { items?: Array<{ id: string }> } | undefined)?.items?.[0]?.id;
    }, 120_000);

    const evidence: Evidence[] = [...http.answers, ...(await opsEvidence(flows.admin, shop.topology))];
    await t.stop({ keepData: true });
    for (const tap of taps) await tap.close();
    const dbs = databasesOf(shop.topology);
    try {
      evidence.push(...(await tableContents(dbs)));
    } finally {
      await closeAll(dbs);
    }
    // The data directory byte for byte: logs, SQLite files and their WAL, the bus, topology.
    // secrets.json is where the installation's secrets belong.
    evidence.push(...filesUnder(shop.topology.dataDir, 'file', (p) => p.endsWith('secrets.json')));
    evidence.push({ where: 'stdout/stderr of every process', text: lines.join('\n') });
    if (redis) evidence.push(...redisContents(redis.url));
    if (nats) {
      await nats.stop(); // flushes the JetStream store to its files
      evidence.push(...filesUnder(nats.dir, 'nats'));
    }
    const key = fingerprintKeyOf(shop.secrets.internalTokenSecret);
    const internalTokens = [...new Set(taps.flatMap((tap) => [...tap.tokens]))];
    const secrets: KnownSecret[] = [
      ...flows.secrets,
      ...assistant.secrets,
      { name: 'JWT_SECRET', value: shop.secrets.jwtSecret },
      { name: 'INTERNAL_TOKEN_SECRET', value: shop.secrets.internalTokenSecret },
      { name: 'idempotency fingerprint key (hex)', value: key.toString('hex') },
      { name: 'idempotency fingerprint key (base64)', value: key.toString('base64') },
      { name: 'demo password of alice', value: shop.secrets.demo.alice },
      { name: 'demo password of admin', value: shop.secrets.demo.admin },
      ...internalTokens.map((value, i) => ({ name: `internal token ${i} (read off the wire)`, value })),
    ];
    return {
      evidence,
      secrets,
      canaries,
      internalTokens,
      internalSecret: shop.secrets.internalTokenSecret,
      environs,
      deadLetterId,
      users: flows.users,
      mode,
    };
  } finally {
    await t?.stop({ keepData: true }).catch(() => undefined);
    if (t) rmSync(t.dataDir, { recursive: true, force: true });
    for (const tap of taps) await tap.close().catch(() => undefined);
    await sim.close();
    await nats?.destroy();
    await redis?.destroy();
  }
}

/** The environment of a running process, as the kernel shows it. */
function environOf(pid: number | undefined): Record<string, string> {
  const raw = readFileSync(`/proc/${pid}/environ`, 'utf8');
  return Object.fromEntries(
    raw
      .split('\0')
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  );
}
