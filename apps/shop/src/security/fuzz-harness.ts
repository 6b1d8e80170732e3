/**
 * Runs generated requests against a shop through its gateway and checks every answer: never a
 * 5xx, never internal detail, always the error shape, and a 4xx for every request the shop
 * must refuse. Runs are seeded (`FUZZ_SEED` replays one; the seed is printed with every
 * failure) and bounded (`FUZZ_RUNS` scales the number of requests per route).
 */
import fc from 'fast-check';
import { DEMO_ADDRESS, DEMO_PRODUCTS, DEMO_USERS } from '../demo-data.js';
import type { TestShop } from '../e2e/test-shop.js';
import { type FuzzRequest, fuzzRequestArbitrary, type Role } from './fuzz-requests.js';
import { loopbackAddresses, type RawResponse, send } from './raw-http.js';
import { answerProblems, shopSpecificLeaks } from './response-checks.js';
import type { PublicRoute } from './route-catalog.js';
import type { Hints } from './schema-arbitrary.js';

/** The run's seed: `FUZZ_SEED` to replay a failure, else a new one each run. */
export const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
/** Multiplies the requests per route (`FUZZ_RUNS=4` for a long local run). */
export const FUZZ_SCALE = Number(process.env.FUZZ_RUNS ?? 1);

/** Who the fuzzer acts as, and what exists to aim at. */
export interface FuzzWorld {
  gateway: string;
  tokens: { admin: string; customers: string[] };
  orderIds: string[];
  userIds: string[];
  leaks: ReturnType<typeof shopSpecificLeaks>;
}

/** Logs in and signs up the callers, and places one order to aim at. */
export async function prepareWorld(t: TestShop, customers = 4): Promise<FuzzWorld> {
  const admin = await t.login('admin');
  const signed = [];
  for (let i = 0; i < customers; i++) signed.push(await t.signup());
  const alice = await t.login('alice');
  const order = await alice.request<{ id: string }>('POST', '/api/orders', {
    body: {
      items: [{ productId: 'p-mug', quantity: 1 }],
      shippingAddress: DEMO_ADDRESS,
      paymentMethod: 'pm_card_visa',
    },
  });
  if (order.status !== 201) throw new Error(`setup order failed: ${order.status}`);
  const { topology } = t.shop;
  return {
    gateway: topology.gatewayUrl,
    tokens: {
      admin: admin.token ?? '',
      customers: [alice.token ?? '', ...signed.map((s) => s.api.token ?? '')],
    },
    orderIds: [order.body.id],
    userIds: signed.map((s) => s.userId),
    leaks: shopSpecificLeaks(
      topology.dataDir,
      topology.instances.map((i) => i.url),
    ),
  };
}

/** Values that reach deeper than random ones: ids that exist, harmless processor settings. */
export function hintsFor(w: FuzzWorld): Hints {
  const products = DEMO_PRODUCTS.map((p) => p.id);
  return {
    productId: fc.constantFrom(...products, 'p-unknown'),
    quantity: fc.integer({ min: 1, max: 3 }),
    paymentMethod: fc.constantFrom(
      'pm_card_visa',
      'pm_card_mastercard',
      'pm_card_declined',
      'pm_card_insufficient_funds',
    ),
    id: fc.constantFrom(...w.orderIds, ...products, ...w.userIds, 'no-such-thing'),
    customerId: fc.constantFrom(...w.userIds, 'someone-else'),
    latencyMs: fc.integer({ min: 0, max: 20 }),
    jitterMs: fc.integer({ min: 0, max: 20 }),
    errorRate: fc.double({ min: 0, max: 0.2, noNaN: true }),
    declineRate: fc.double({ min: 0, max: 0.2, noNaN: true }),
    group: fc.constant('fuzz-group'),
    email: fc.oneof(
      fc.constant(DEMO_USERS.alice.email),
      fc.emailAddress().filter((e) => e.length < 200),
    ),
    message: fc.string({ minLength: 1, maxLength: 200 }),
  };
}

const addresses = loopbackAddresses(200);
let nextAddress = 0;

function tokenOf(w: FuzzWorld, role: Role, pick: number): string | undefined {
  if (role === 'admin') return w.tokens.admin;
  if (role === 'customer') return w.tokens.customers[pick % w.tokens.customers.length];
  return undefined;
}

/** Sends one generated request as its role, from a rotating loopback address. */
export async function sendFuzz(w: FuzzWorld, r: FuzzRequest): Promise<RawResponse> {
  const token = tokenOf(w, r.role, nextAddress);
  const headers: Record<string, string> = { ...r.headers };
  if (token) headers.authorization = `Bearer ${token}`;
  if (r.key === MCP_ROUTE) headers.accept = 'application/json, text/event-stream';
  return send(w.gateway, {
    method: r.method,
    path: r.path,
    headers,
    ...(r.body !== undefined ? { body: r.body } : {}),
    localAddress: addresses[nextAddress++ % addresses.length],
    timeoutMs: 90_000,
  });
}

/** Problems with the answer to `r` (empty when it is fine). */
export function checkAnswer(w: FuzzWorld, r: FuzzRequest, res: RawResponse): string[] {
  const sent = `${r.path}\n${r.body ?? ''}\n${JSON.stringify(r.headers)}`;
  // The ops console describes the deployment to its admins (breakers and instances by
  // address): that is its job. Its errors, and every other route, never name an instance.
  const leaks =
    r.upstream === 'console' && res.status < 400
      ? w.leaks.filter(([what]) => what !== 'internal address')
      : w.leaks;
  const problems = answerProblems(res, sent, leaks, { jsonRpc: r.key === MCP_ROUTE });
  // MCP answers a malformed call in the protocol (HTTP 200, a JSON-RPC error), and a message
  // without an id is a notification (JSON-RPC 2.0 §4.1): 202, no answer, nothing run.
  const refusedInBand =
    r.key === MCP_ROUTE &&
    ((res.status === 200 && isJsonRpcError(res)) || (res.status === 202 && isNotification(r.body)));
  if (r.invalid && !refusedInBand && (res.status < 400 || res.status >= 500))
    problems.push(`a request the shop must refuse got ${res.status} (${r.notes.join('; ')})`);
  return problems;
}

const MCP_ROUTE = 'POST /api/assistant/mcp';

/**
 * Whether an answer is a JSON-RPC error (MCP refuses malformed calls in the protocol, with
 * HTTP 200), as JSON or as one Server-Sent Event.
 */
export function isJsonRpcError(res: RawResponse): boolean {
  const message = (res.json ?? sseData(res.text)) as { jsonrpc?: unknown; error?: unknown } | undefined;
  return message?.jsonrpc === '2.0' && typeof message.error === 'object' && message.error !== null;
}

function isNotification(body: string | undefined): boolean {
  try {
    const message = JSON.parse(body ?? '') as unknown;
    return typeof message === 'object' && message !== null && !('id' in message);
  } catch {
    return false;
  }
}

function sseData(text: string): unknown {
  const line = text.split('\n').find((l) => l.startsWith('data:'));
  if (!line) return undefined;
  try {
    return JSON.parse(line.slice(5));
  } catch {
    return undefined;
  }
}

/** What one route's fuzzing saw. */
export interface RouteStats {
  requests: number;
  byStatus: Record<number, number>;
}

/**
 * Fuzzes `route` with `numRuns` requests (scaled by `FUZZ_RUNS`); throws with the seed and the
 * failing request when an answer breaks a rule. `onAnswer` sees every exchange.
 */
export async function fuzzRoute(
  w: FuzzWorld,
  route: PublicRoute,
  o: {
    numRuns: number;
    seed: number;
    mustBreak: boolean;
    hints: Hints;
    onAnswer?: (r: FuzzRequest, res: RawResponse) => void;
  },
): Promise<RouteStats> {
  const stats: RouteStats = { requests: 0, byStatus: {} };
  const property = fc.asyncProperty(fuzzRequestArbitrary(route, o.hints, o.mustBreak), async (r) => {
    const res = await sendFuzz(w, r);
    stats.requests++;
    stats.byStatus[res.status] = (stats.byStatus[res.status] ?? 0) + 1;
    o.onAnswer?.(r, res);
    const problems = checkAnswer(w, r, res);
    if (problems.length > 0) {
      throw new Error(
        `${problems.join('\n')}\nrequest: ${r.method} ${r.path.slice(0, 300)} as ${r.role} ${JSON.stringify(r.headers)}\nbody: ${(r.body ?? '').slice(0, 300)}\nanswer: ${res.status} ${res.text.slice(0, 300)}`,
      );
    }
  });
  const numRuns = Math.max(1, Math.round(o.numRuns * FUZZ_SCALE));
  const details = await fc.check(property, { numRuns, seed: o.seed, endOnFailure: true });
  if (details.failed) {
    const error =
      details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
    throw new Error(
      `${route.key} failed (replay with FUZZ_SEED=${FUZZ_SEED}; fast-check seed ${details.seed}, path ${details.counterexamplePath}):\n${error}`,
    );
  }
  return stats;
}
