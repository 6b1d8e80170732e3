/**
 * The load generator: customers place orders through the gateway at a fixed concurrency, each
 * with a fresh `Idempotency-Key`; every answer is classified (completed, compensated, failed,
 * rejected by reason) and its latency recorded. Orders still running when the API answered
 * (202) are followed until they end. The ids of accepted orders are kept, so the invariant
 * checker can prove none was lost.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { DEMO_ADDRESS, DEMO_PRODUCTS, DEMO_USERS } from '../demo-data.js';
import { ShopApi } from './shop-api.js';
import { latencySummary, ProgressLine } from './stats.js';

/** Options of {@link runLoad}. */
export interface LoadOptions {
  gatewayUrl: string;
  orders: number;
  concurrency: number;
  /** Customers placing the orders (signed up for the run). Default 10. */
  users?: number;
  /** Share of orders paid with a card that is declined. Default 0.05. */
  declineRate?: number;
  /** Admin password: with it, stock is topped up before the run so orders are not turned away. */
  adminPassword?: string;
  /** Also order the scarce demo product (exercises out-of-stock). Default false. */
  includeScarce?: boolean;
  /** Show a progress line. Default true. */
  progress?: boolean;
  /** Called with each finished order (the crash test uses it to time its fault). */
  onOrder?: (done: number) => void;
  /** Stops placing new orders when aborted (those in flight finish). */
  signal?: AbortSignal;
}

/** Outcome of one order request. */
export type Outcome = 'completed' | 'compensated' | 'failed' | 'rejected';

/** What a load run measured. */
export interface LoadResult {
  attempted: number;
  durationMs: number;
  ordersPerSecond: number;
  latencyMs: { p50: number; p95: number; p99: number; max: number };
  outcomes: Record<Outcome, number>;
  /** Why requests were rejected or failed, by error code or status. */
  reasons: Record<string, number>;
  /** Orders the API accepted (201/202): each must exist afterwards. */
  acceptedOrderIds: string[];
}

interface Customer {
  api: ShopApi;
}

const TERMINAL = new Set(['shipped', 'cancelled']);

function pick<T>(xs: readonly T[]): T {
  return xs[Math.floor(Math.random() * xs.length)] as T;
}

type OrderAnswer = { id?: string; status?: string; error?: { code?: string } };

/**
 * Places an order as a careful client does: one Idempotency-Key for the order, and when the
 * shop answers "a request with this key is still in progress" (its first attempt was cut off
 * by a crash), asks again with the same key after `Retry-After` — never with a new key.
 */
async function placeWithRetry(api: ShopApi, body: unknown) {
  const key = randomUUID();
  const deadline = Date.now() + 60_000;
  for (;;) {
    const res = await api.post<OrderAnswer>('/api/orders', body, { 'idempotency-key': key });
    if (res.status !== 409 || res.body.error?.code !== 'IDEMPOTENCY_KEY_IN_PROGRESS' || Date.now() > deadline)
      return res;
    await new Promise((r) => setTimeout(r, 1000 * Number(res.headers.get('retry-after') ?? 1)));
  }
}

/** Signs up the run's customers. */
async function customers(api: ShopApi, count: number): Promise<Customer[]> {
  const run = randomBytes(4).toString('hex');
  const out: Customer[] = [];
  for (let i = 0; i < count; i++) {
    const { token } = await api.signup(
      `load-${run}-${i}@example.test`,
      randomBytes(12).toString('base64url'),
      `Load ${i}`,
    );
    out.push({ api: api.as(token) });
  }
  return out;
}

/** Tops stock up so that `orders` orders of up to 3 lines × 2 units fit. */
async function restock(
  api: ShopApi,
  adminPassword: string,
  orders: number,
  products: readonly string[],
): Promise<void> {
  const admin = api.as((await api.login(DEMO_USERS.admin.email, adminPassword)).token);
  const need = Math.ceil((orders * 2 * 2) / products.length) + 50;
  const res = await api.get<{ items: Array<{ productId: string; available: number }> }>(
    `/api/stock?ids=${products.join(',')}`,
  );
  for (const s of res.body.items) {
    if (s.available < need) {
      const r = await admin.post(`/api/stock/${s.productId}/restock`, { quantity: need - s.available });
      if (r.status !== 200) throw new Error(`restock of ${s.productId} failed: ${r.status}`);
    }
  }
}

/**
 * Runs the load.
 *
 * Throws `Error` when the customers cannot be signed up (the shop is not reachable).
 */
export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const api = new ShopApi(o.gatewayUrl);
  const products = DEMO_PRODUCTS.filter((p) => o.includeScarce || p.stock >= 100).map((p) => p.id);
  if (o.adminPassword) await restock(api, o.adminPassword, o.orders, products);
  const people = await customers(api, Math.max(1, o.users ?? 10));
  const declineRate = o.declineRate ?? 0.05;
  const outcomes: Record<Outcome, number> = { completed: 0, compensated: 0, failed: 0, rejected: 0 };
  const reasons: Record<string, number> = {};
  const latencies: number[] = [];
  const accepted: string[] = [];
  const pending: Array<{ id: string; api: ShopApi }> = [];
  const progress = o.progress === false ? undefined : new ProgressLine(o.orders);
  const count = (outcome: Outcome, reason?: string) => {
    outcomes[outcome]++;
    if (reason) reasons[reason] = (reasons[reason] ?? 0) + 1;
  };
  const started = Date.now();
  let next = 0;
  let done = 0;

  const one = async () => {
    const customer = pick(people);
    const lines = 1 + Math.floor(Math.random() * 3);
    const items = [...new Set(Array.from({ length: lines }, () => pick(products)))].map((productId) => ({
      productId,
      quantity: 1 + Math.floor(Math.random() * 2),
    }));
    const body = {
      items,
      shippingAddress: DEMO_ADDRESS,
      paymentMethod: Math.random() < declineRate ? 'pm_card_declined' : 'pm_card_visa',
    };
    const t0 = performance.now();
    try {
      const res = await placeWithRetry(customer.api, body);
      latencies.push(performance.now() - t0);
      if (res.status === 201 || res.status === 202) {
        const id = String(res.body.id);
        accepted.push(id);
        if (res.body.status === 'shipped') count('completed');
        else if (res.body.status === 'cancelled') count('compensated');
        else pending.push({ id, api: customer.api });
      } else if (res.status >= 400 && res.status < 500) {
        count('rejected', res.body.error?.code ?? `HTTP_${res.status}`);
      } else if (res.status === 503) {
        count('rejected', res.body.error?.code ?? 'HTTP_503');
      } else {
        count('failed', res.body.error?.code ?? `HTTP_${res.status}`);
      }
    } catch (error) {
      latencies.push(performance.now() - t0);
      count('failed', (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name);
    }
    done++;
    o.onOrder?.(done);
    progress?.update(
      done,
      `ok ${outcomes.completed}  comp ${outcomes.compensated}  fail ${outcomes.failed}  rej ${outcomes.rejected}`,
    );
  };

  const worker = async () => {
    while (next < o.orders && !o.signal?.aborted) {
      next++;
      await one();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, o.concurrency) }, worker));
  const durationMs = Date.now() - started;
  progress?.done();

  // Orders the API answered 202 for: follow them to their end (or count them failed).
  const deadline = Date.now() + 60_000;
  for (const p of pending) {
    let status = 'submitted';
    while (Date.now() < deadline) {
      const res = await p.api.get<{ status: string }>(`/api/orders/${p.id}`).catch(() => undefined);
      status = res?.body.status ?? status;
      if (TERMINAL.has(status)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    if (status === 'shipped') count('completed');
    else if (status === 'cancelled') count('compensated');
    else count('failed', `STUCK_${status.toUpperCase()}`);
  }

  const attempted = done;
  return {
    attempted,
    durationMs,
    ordersPerSecond: attempted / Math.max(0.001, durationMs / 1000),
    latencyMs: latencySummary(latencies),
    outcomes,
    reasons,
    acceptedOrderIds: accepted,
  };
}

/** The result as the lines the CLI prints. */
export function formatLoadResult(r: LoadResult, header: string): string {
  const ms = (v: number) => (v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${Math.round(v)} ms`);
  const reasons = Object.entries(r.reasons)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  return [
    header,
    `  duration    ${(r.durationMs / 1000).toFixed(1)} s   throughput ${r.ordersPerSecond.toFixed(1)} orders/s`,
    `  latency     p50 ${ms(r.latencyMs.p50)}   p95 ${ms(r.latencyMs.p95)}   p99 ${ms(r.latencyMs.p99)}   max ${ms(r.latencyMs.max)}`,
    `  outcomes    completed ${r.outcomes.completed}   compensated ${r.outcomes.compensated}   failed ${r.outcomes.failed}   rejected ${r.outcomes.rejected}`,
    ...(reasons ? [`  reasons     ${reasons}`] : []),
  ].join('\n');
}
