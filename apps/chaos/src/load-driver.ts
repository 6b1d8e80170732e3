/**
 * The load an experiment runs under: customers place orders through the gateway at a fixed
 * concurrency for as long as the experiment lasts (bounded by a maximum count), each order
 * followed to its end. Every order is recorded with its start and end time and the phase it
 * started in, so the harness can measure throughput and errors per window and see when the
 * system recovered.
 *
 * The customers behave as careful clients do under failure: one `Idempotency-Key` per order,
 * and when an answer is lost (a network error, a 5xx, a 429, the key still in progress) they ask
 * again with the same key until their deadline — never with a new key. That is exactly the
 * traffic that makes lost answers dangerous (double charges, orders placed twice), so the
 * invariants are checked against it.
 */
import { randomUUID } from 'node:crypto';
import { DEMO_ADDRESS, type ShopApi } from '@trellis/shop';
import { classifyAnswer, type OrderOutcome, TERMINAL_STATUSES } from './order-outcome.js';

/** One order as the load saw it. */
export interface OrderRecord {
  /** Epoch ms when the first request was sent, and when the outcome was known. */
  startedAt: number;
  endedAt: number;
  phase: string;
  outcome: OrderOutcome;
  /** Error code or status behind a failure or rejection; the final status otherwise. */
  reason: string;
  orderId?: string;
  /** HTTP requests sent for the order (more than 1: the client retried with the same key). */
  requests: number;
}

/** Options of {@link LoadDriver}. */
export interface LoadDriverOptions {
  /** One API client per customer (signed in). */
  customers: readonly ShopApi[];
  /** Products to order. */
  products: readonly string[];
  concurrency: number;
  /**
   * Orders placed per phase at most (a bound on any experiment's load; each phase is bounded in
   * time too). Per phase, so a busy fault phase cannot use up the orders that recovery is
   * measured with: once a phase has placed this many, the workers wait for the next phase.
   */
  maxOrders: number;
  /** Share of orders paid with a declining card (compensated by design). Default 0.05. */
  declineRate?: number;
  /** How long a customer keeps asking about one order before counting it failed (ms). Default 60 s. */
  orderDeadlineMs?: number;
  /** One HTTP request's timeout (ms). Default 15 s (above the shop's 10 s saga wait). */
  requestTimeoutMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function pick<T>(xs: readonly T[]): T {
  return xs[Math.floor(Math.random() * xs.length)] as T;
}

/** Drives orders until stopped. */
export class LoadDriver {
  readonly records: OrderRecord[] = [];
  private phase = 'idle';
  private stopping = false;
  private workers: Promise<void>[] = [];
  /** Orders placed per phase. */
  private readonly placed = new Map<string, number>();

  constructor(private readonly o: LoadDriverOptions) {}

  /** Names the phase new orders are recorded in. */
  setPhase(phase: string): void {
    this.phase = phase;
  }

  /** Starts the workers (they run until {@link stop}). */
  start(): void {
    this.stopping = false;
    this.workers = Array.from({ length: Math.max(1, this.o.concurrency) }, () => this.work());
  }

  /** Stops placing orders and waits for those in flight to end. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.workers);
    this.workers = [];
  }

  /** Phases in which the bound was reached (load stopped there until the next phase). */
  get capped(): string[] {
    return [...this.placed].filter(([, n]) => n >= this.o.maxOrders).map(([phase]) => phase);
  }

  /** Ids of every order the shop accepted. */
  get acceptedOrderIds(): string[] {
    return this.records.flatMap((r) => (r.orderId ? [r.orderId] : []));
  }

  private async work(): Promise<void> {
    while (!this.stopping) {
      const phase = this.phase;
      const placed = this.placed.get(phase) ?? 0;
      if (placed >= this.o.maxOrders) {
        await sleep(100);
        continue;
      }
      this.placed.set(phase, placed + 1);
      this.records.push(await this.one());
    }
  }

  private async one(): Promise<OrderRecord> {
    const customer = pick(this.o.customers);
    const lines = 1 + Math.floor(Math.random() * 3);
    const items = [...new Set(Array.from({ length: lines }, () => pick(this.o.products)))].map(
      (productId) => ({ productId, quantity: 1 + Math.floor(Math.random() * 2) }),
    );
    const body = {
      items,
      shippingAddress: DEMO_ADDRESS,
      paymentMethod: Math.random() < (this.o.declineRate ?? 0.05) ? 'pm_card_declined' : 'pm_card_visa',
    };
    const phase = this.phase;
    const startedAt = Date.now();
    const deadline = startedAt + (this.o.orderDeadlineMs ?? 60_000);
    const key = randomUUID();
    const timeoutMs = this.o.requestTimeoutMs ?? 15_000;
    let requests = 0;
    let last = 'NO_ANSWER';
    let orderId: string | undefined;
    let backoff = 250;
    const record = (outcome: OrderOutcome, reason: string): OrderRecord => ({
      startedAt,
      endedAt: Date.now(),
      phase,
      outcome,
      reason,
      ...(orderId ? { orderId } : {}),
      requests,
    });

    while (Date.now() < deadline) {
      requests++;
      const answer = await customer
        .request<{ id?: string; status?: string; error?: { code?: string } }>('POST', '/api/orders', {
          body,
          headers: { 'idempotency-key': key },
          timeoutMs,
        })
        .catch((error: unknown) => error as Error);
      const verdict = classifyAnswer(answer);
      last = verdict.reason;
      if (verdict.kind === 'accepted') {
        orderId = verdict.orderId;
        if (TERMINAL_STATUSES.has(verdict.status)) return record(verdict.outcome, verdict.status);
        const status = await this.follow(customer, verdict.orderId, deadline + 30_000, timeoutMs);
        if (status === 'shipped') return record('completed', status);
        if (status === 'cancelled') return record('compensated', status);
        return record('failed', `STUCK_${status.toUpperCase()}`);
      }
      if (verdict.kind === 'rejected') return record('rejected', verdict.reason);
      await sleep(verdict.retryAfterMs ?? backoff);
      backoff = Math.min(2000, backoff * 2);
    }
    return record('failed', last);
  }

  /** Polls an order the shop is still working on (202) until it ends or the deadline passes. */
  private async follow(api: ShopApi, id: string, deadline: number, timeoutMs: number): Promise<string> {
    let status = 'submitted';
    while (Date.now() < deadline) {
      const res = await api
        .request<{ status?: string }>('GET', `/api/orders/${id}`, { timeoutMs })
        .catch(() => undefined);
      if (res?.status === 200 && res.body.status) status = res.body.status;
      if (TERMINAL_STATUSES.has(status)) return status;
      await sleep(250);
    }
    return status;
  }
}
