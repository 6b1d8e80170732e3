/**
 * Secrets never leak: a full run of the shop (embedded, and distributed on real PostgreSQL,
 * NATS JetStream and Redis) driven through real flows with known secrets — passwords, the
 * session tokens issued, the internal tokens read off the wire between processes, card
 * numbers, the model's API key, the installation's signing secrets, forged credentials — and
 * then a grep of everything the run left behind: every process's log (at debug level), every
 * trace and ops answer, every answer the shop gave, every file of the data directory byte for
 * byte, every row of every table, the JetStream store on disk and Redis. Each capture path is
 * first shown to catch a canary planted through it, so a clean result means something.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { OpenAISimulator } from '@trellis/agent/testing';
import { type ServerHandle, serverUrl, startNats, startRedis } from '@trellis/testing';
import { jwtVerify } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
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
import { findLeaks, type KnownSecret, placesOf } from './secrets-scan.js';
import { closeAll, databasesOf } from './state-snapshot.js';

const postgres = serverUrl('postgres');
const canRunDistributed = Boolean(postgres && serverUrl('nats') && serverUrl('redis'));

interface Run {
  evidence: Evidence[];
  secrets: KnownSecret[];
  canaries: { log: string; trace: string; table: string; event: string };
  internalTokens: string[];
  internalSecret: string;
  /** Each process's environment, as the kernel shows it (`/proc/<pid>/environ`). */
  environs: Record<string, Record<string, string>>;
  /** The order whose event was dead-lettered on purpose. */
  deadLetterOrderId: string;
  users: FlowUser[];
  mode: 'embedded' | 'distributed';
}

/** Starts a shop, drives every flow, stops it, and captures everything it left. */
async function runShop(mode: 'embedded' | 'distributed'): Promise<Run> {
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
    }, 60_000);
    // A dead letter, so the dead-letter tables are searched with something in them: the
    // notifications group fails its next message for good (a poison fault, as operators arm it).
    await http.call('PUT', '/api/ops/faults/notifications', {
      token: flows.admin,
      body: { mode: 'poison', remaining: 1 },
    });
    const poisoned = await http.call('POST', '/api/orders', {
      token: first.token,
      headers: { 'idempotency-key': randomUUID() },
      body: {
        items: [{ productId: 'p-mug', quantity: 1 }],
        shippingAddress: DEMO_ADDRESS,
        paymentMethod: 'pm_card_visa',
      },
    });
    const deadLetterOrderId = (poisoned.json as { id: string }).id;
    await eventually(async () => {
      const d = await http.call('GET', '/api/ops/dead-letters?limit=100', { token: flows.admin });
      return d.text.includes(deadLetterOrderId);
    }, 60_000);

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
      deadLetterOrderId,
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

function secretsProof(mode: 'embedded' | 'distributed') {
  let run: Run;
  beforeAll(async () => {
    run = await runShop(mode);
  }, 600_000);

  it('catches a canary planted through each capture path (the grep can fail)', () => {
    const { evidence, canaries } = run;
    const logs = (where: string) => where.startsWith('file logs/') || where.startsWith('stdout');
    expect(placesOf(evidence, canaries.log).filter(logs), 'in the logs').not.toEqual([]);
    expect(
      placesOf(evidence, canaries.trace).filter((w) => w.startsWith('trace ')),
      'in a trace',
    ).not.toEqual([]);
    expect(
      placesOf(evidence, canaries.table).filter((w) => w === 'table users.shop_users'),
      'in a table',
    ).not.toEqual([]);
    const bus =
      mode === 'embedded' ? (w: string) => w.startsWith('table bus.') : (w: string) => w.startsWith('nats ');
    expect(placesOf(evidence, canaries.event).filter(bus), 'on the bus').not.toEqual([]);
    expect(
      placesOf(evidence, canaries.event).filter((w) => w.startsWith('table orders.')),
      'in the event store',
    ).not.toEqual([]);
    if (mode === 'embedded')
      expect(
        placesOf(evidence, canaries.table).filter((w) => w.startsWith('file users.db')),
        'in the raw files',
      ).not.toEqual([]);
    else {
      // The gateway keeps each signed-in user's rate-limit bucket in Redis, under their id.
      const first = run.users[0]?.id ?? 'none';
      expect(
        placesOf(evidence, first).filter((w) => w.startsWith('redis ')),
        'in Redis',
      ).not.toEqual([]);
    }
    expect(
      placesOf(evidence, canaries.trace).filter((w) => w.startsWith('answer ')),
      'in an answer',
    ).not.toEqual([]);
    const deadLetters = evidence.filter((e) => e.where.startsWith('table ') && /dead/i.test(e.where));
    expect(
      deadLetters.filter((e) => e.text.includes(run.deadLetterOrderId)).map((e) => e.where),
      'a dead letter in its table',
    ).not.toEqual([]);
    // A leak is reported with its place, and the report does not repeat the secret.
    const planted = findLeaks(evidence, [{ name: 'canary', value: canaries.log }]);
    expect(planted.length).toBeGreaterThan(0);
    expect(planted.every((l) => !l.context.includes(canaries.log))).toBe(true);
  });

  it('read the internal tokens that really travelled between the processes', async () => {
    // The gateway's user identities, the services' own, the console's: all genuine.
    expect(run.internalTokens.length).toBeGreaterThan(3);
    const key = new TextEncoder().encode(run.internalSecret);
    const kinds = new Set<string>();
    for (const token of run.internalTokens.filter((x) => x.split('.').length === 3).slice(0, 50)) {
      const { payload } = await jwtVerify(token, key, { audience: 'trellis-internal' }).catch(() => ({
        payload: {} as Record<string, unknown>,
      }));
      if (typeof payload.kind === 'string') kinds.add(payload.kind);
    }
    expect([...kinds].sort()).toEqual(expect.arrayContaining(['service', 'user']));
  });

  it('finds no secret in any log, trace, event, table, file, store or answer where it does not belong', () => {
    const leaks = findLeaks(run.evidence, run.secrets);
    expect(leaks.map((l) => `${l.secret} in ${l.where}: …${l.context}…`)).toEqual([]);
    // What was searched, so a silently empty capture cannot pass.
    expect(run.secrets.length).toBeGreaterThan(40);
    expect(run.evidence.filter((e) => e.where.startsWith('table ')).length).toBeGreaterThan(20);
    expect(run.evidence.filter((e) => e.where.startsWith('trace ')).length).toBeGreaterThan(5);
  });

  it('hands each process only the secrets it needs, not the whole environment of the operator', () => {
    const ids = Object.keys(run.environs);
    expect(ids).toEqual(expect.arrayContaining(['gateway', 'users', 'catalog', 'orders', 'assistant']));
    for (const [id, env] of Object.entries(run.environs)) {
      const service = id.split('#')[0];
      expect(env.INTERNAL_TOKEN_SECRET, `${id} verifies internal tokens`).toBe(run.internalSecret);
      expect('JWT_SECRET' in env, `${id} has JWT_SECRET`).toBe(service === 'users' || service === 'gateway');
      expect('DEMO_ADMIN_PASSWORD' in env, `${id} has the demo passwords`).toBe(service === 'users');
      expect('OPENAI_API_KEY' in env, `${id} has the model key`).toBe(service === 'assistant');
    }
  });

  it('keeps passwords only as scrypt hashes and cards only as brand and last four', () => {
    const users = run.evidence.find((e) => e.where === 'table users.shop_users')?.text ?? '';
    const rows = users.split('\n').map((l) => JSON.parse(l) as { email: string; password_hash: string });
    for (const u of run.users) {
      expect(rows.find((r) => r.email === u.email)?.password_hash).toMatch(/^scrypt\$/);
    }
    const payments = run.evidence.filter((e) => e.where.startsWith('table payments.')).map((e) => e.text);
    expect(payments.join('\n')).not.toMatch(/"(number|cvc|card_number|pan)"\s*:/i);
  });
}

describe('secrets never leak (embedded)', () => secretsProof('embedded'));
describe.skipIf(!canRunDistributed)('secrets never leak (distributed)', () => secretsProof('distributed'));
