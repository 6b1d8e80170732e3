/**
 * An honest card-processor simulator: the external dependency the payments service guards
 * with a timeout and a circuit breaker. It behaves like a real processor's API:
 *
 * - every call takes `latencyMs` plus up to `jitterMs`;
 * - a share `errorRate` of calls fails with a processor error (nothing charged);
 * - a share `declineRate` of otherwise good charges is declined (`do_not_honor`), and cards
 *   that always decline do so;
 * - charges and refunds are idempotent by key (like Stripe's `Idempotency-Key`), and
 *   `lookup(key)` tells whether a charge with that key went through, so a caller that lost an
 *   answer can find out instead of guessing;
 * - an aborted call (the caller's timeout) stops before anything is charged.
 *
 * Its ledger is its own table, written in its own transactions (never in the caller's): it
 * stands for the money that really moved, which the invariant checker compares with what the
 * payments service believes. Its configuration is a row too, so every payments replica sees a
 * change made through the admin endpoint within a second.
 */
import {
  type Clock,
  errorGuard,
  type SqlDatabase,
  sleep,
  systemClock,
  TrellisError,
  uuidv7,
} from '@trellis/core';
import type { ProcessorConfig } from '../../contracts/payments.js';
import { migrate } from '../../platform/migrate.js';

/** The processor failed (5xx, network): nothing was charged. Retry with the same key. */
export class ProcessorError extends TrellisError {
  constructor(message = 'Card processor error') {
    super('PROCESSOR_ERROR', message, 502);
  }
}
/** Guard for {@link ProcessorError} (code `PROCESSOR_ERROR`). */
export const isProcessorError = errorGuard<ProcessorError>('PROCESSOR_ERROR');

/** How a card behaves at the processor. */
export type CardBehaviour = 'ok' | 'decline' | 'insufficient_funds';

/** The processor's answer to a charge. */
export type ChargeOutcome = { status: 'succeeded'; ref: string } | { status: 'declined'; reason: string };

/** One entry of the processor's ledger. */
export interface LedgerEntry {
  ref: string;
  key: string;
  kind: 'charge' | 'refund';
  orderId: string;
  amountCents: number;
}

/** The default configuration: fast and reliable. */
export const DEFAULT_PROCESSOR_CONFIG: ProcessorConfig = {
  latencyMs: 5,
  jitterMs: 5,
  errorRate: 0,
  declineRate: 0,
};

/** The simulator. */
export class CardProcessorSimulator {
  private config: ProcessorConfig = DEFAULT_PROCESSOR_CONFIG;
  private loadedAt = Number.NEGATIVE_INFINITY;
  /** Calls this instance made, by outcome. */
  readonly calls = { succeeded: 0, declined: 0, failed: 0 };

  private constructor(
    private readonly db: SqlDatabase,
    private readonly clock: Clock,
    private readonly random: () => number,
  ) {}

  /** Creates the ledger and config tables if needed. */
  static async create(
    db: SqlDatabase,
    options: { clock?: Clock; random?: () => number } = {},
  ): Promise<CardProcessorSimulator> {
    await migrate(db, 'shop_processor', [
      `CREATE TABLE IF NOT EXISTS shop_processor_ledger (
        ref TEXT PRIMARY KEY,
        idem_key TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        order_id TEXT NOT NULL,
        amount_cents BIGINT NOT NULL,
        created_at BIGINT NOT NULL
      )`,
      `CREATE TABLE IF NOT EXISTS shop_processor_config (
        id INTEGER PRIMARY KEY,
        config TEXT NOT NULL,
        updated_at BIGINT NOT NULL
      )`,
    ]);
    return new CardProcessorSimulator(db, options.clock ?? systemClock, options.random ?? Math.random);
  }

  /** The current configuration (re-read from the database at most once a second). */
  async currentConfig(): Promise<ProcessorConfig> {
    const now = this.clock.now();
    if (now - this.loadedAt < 1000) return this.config;
    const [row] = await this.db.query<{ config: string }>(
      'SELECT config FROM shop_processor_config WHERE id = 1',
    );
    this.config = row
      ? { ...DEFAULT_PROCESSOR_CONFIG, ...(JSON.parse(row.config) as Partial<ProcessorConfig>) }
      : DEFAULT_PROCESSOR_CONFIG;
    this.loadedAt = now;
    return this.config;
  }

  /** Changes the configuration for every replica; returns the new one. */
  async configure(patch: Partial<ProcessorConfig>): Promise<ProcessorConfig> {
    const next = { ...(await this.currentConfig()), ...patch };
    await this.db.execute(
      `INSERT INTO shop_processor_config (id, config, updated_at) VALUES (1, $1, $2)
       ON CONFLICT (id) DO UPDATE SET config = excluded.config, updated_at = excluded.updated_at`,
      [JSON.stringify(next), this.clock.now()],
    );
    this.config = next;
    this.loadedAt = this.clock.now();
    return next;
  }

  /**
   * Charges `amountCents`. The same key always gets the same successful charge.
   *
   * Throws `ProcessorError` (nothing charged) and the signal's reason when aborted.
   */
  async charge(
    input: { key: string; orderId: string; amountCents: number; behaviour: CardBehaviour },
    signal?: AbortSignal,
  ): Promise<ChargeOutcome> {
    await this.network(signal);
    const existing = await this.lookup(input.key);
    if (existing) return { status: 'succeeded', ref: existing.ref };
    const config = await this.currentConfig();
    const declined =
      input.behaviour === 'decline'
        ? 'card_declined'
        : input.behaviour === 'insufficient_funds'
          ? 'insufficient_funds'
          : this.random() < config.declineRate
            ? 'do_not_honor'
            : undefined;
    if (declined) {
      this.calls.declined++;
      return { status: 'declined', reason: declined };
    }
    signal?.throwIfAborted();
    const ref = await this.record(input.key, 'charge', input.orderId, input.amountCents);
    this.calls.succeeded++;
    return { status: 'succeeded', ref };
  }

  /** Refunds a charge; idempotent by `key`. Throws like {@link charge}. */
  async refund(
    input: { key: string; orderId: string; amountCents: number },
    signal?: AbortSignal,
  ): Promise<string> {
    await this.network(signal);
    const existing = await this.lookup(input.key);
    if (existing) return existing.ref;
    signal?.throwIfAborted();
    return this.record(input.key, 'refund', input.orderId, input.amountCents);
  }

  /** The ledger entry made with `key`, if any (no latency or errors: a read of a status API). */
  async lookup(key: string): Promise<LedgerEntry | undefined> {
    const [row] = await this.db.query<{
      ref: string;
      idem_key: string;
      kind: 'charge' | 'refund';
      order_id: string;
      amount_cents: number | string;
    }>('SELECT * FROM shop_processor_ledger WHERE idem_key = $1', [key]);
    return row
      ? {
          ref: row.ref,
          key: row.idem_key,
          kind: row.kind,
          orderId: row.order_id,
          amountCents: Number(row.amount_cents),
        }
      : undefined;
  }

  /** Latency, then maybe an error: what the network and the processor cost every call. */
  private async network(signal?: AbortSignal): Promise<void> {
    const config = await this.currentConfig();
    const delay = config.latencyMs + this.random() * config.jitterMs;
    if (delay > 0) await sleep(delay, { clock: this.clock, ...(signal ? { signal } : {}) });
    if (this.random() < config.errorRate) {
      this.calls.failed++;
      throw new ProcessorError('Card processor returned 503');
    }
  }

  private async record(
    key: string,
    kind: 'charge' | 'refund',
    orderId: string,
    amountCents: number,
  ): Promise<string> {
    const ref = `${kind === 'charge' ? 'ch' : 're'}_${uuidv7(this.clock.now()).replace(/-/g, '')}`;
    await this.db.execute(
      `INSERT INTO shop_processor_ledger (ref, idem_key, kind, order_id, amount_cents, created_at)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (idem_key) DO NOTHING`,
      [ref, key, kind, orderId, amountCents, this.clock.now()],
    );
    return (await this.lookup(key))?.ref ?? ref;
  }
}
