/**
 * What the harness asks the shop as its operator, through the gateway with the admin's token:
 * the ops API (breakers with their transitions, dead letters and their replay) and the card
 * processor simulator's settings. Calls are retried for a while, because they are made right
 * after faults, when the gateway itself may still be coming back.
 */
import type { ShopApi } from '@trellis/shop';

/** A breaker as the ops API shows it. */
export interface BreakerState {
  instance: string;
  service: string;
  name: string;
  state: string;
  transitions: Array<{ from: string; to: string; reason: string; at: number }>;
}

/** A dead letter as the ops API lists it. */
export interface DeadLetterItem {
  id: string;
  service: string;
  group: string;
  topic: string;
  reason: string;
  messageId?: string;
  error?: { code?: string; message?: string };
}

/** The card processor simulator's settings (`PUT /api/admin/processor`). */
export interface ProcessorSettings {
  latencyMs?: number;
  jitterMs?: number;
  errorRate?: number;
  declineRate?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The operator's view of a running shop. */
export class ShopAdmin {
  /** `admin(true)` must log in again (after a 401: a restarted users service, an expired token). */
  constructor(private readonly admin: (fresh?: boolean) => Promise<ShopApi>) {}

  /** Every breaker of every instance that answered the aggregator's last poll. */
  async breakers(): Promise<BreakerState[]> {
    const body = await this.call<{ items: BreakerState[] }>('GET', '/api/ops/breakers');
    return body.items;
  }

  /** Every dead letter in every service (up to 1000). */
  async deadLetters(): Promise<DeadLetterItem[]> {
    const body = await this.call<{ items: DeadLetterItem[] }>('GET', '/api/ops/dead-letters?limit=1000');
    return body.items;
  }

  /** Replays dead letters of `service` by id; resolves to how many were replayed. */
  async replay(service: string, ids: string[]): Promise<number> {
    const body = await this.call<{ replayed: number }>('POST', '/api/ops/dead-letters/replay', {
      service,
      ids,
    });
    return body.replayed;
  }

  /** Changes the card processor simulator (every payments replica picks it up within a second). */
  async setProcessor(settings: ProcessorSettings): Promise<void> {
    await this.call('PUT', '/api/admin/processor', settings);
  }

  /**
   * One admin call, retried on network errors, 5xx and 401 (a token issued before a restart)
   * for up to `patienceMs`.
   *
   * Throws `Error` with the last status when it never succeeds, or at once on another 4xx.
   */
  async call<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
    patienceMs = 30_000,
  ): Promise<T> {
    const deadline = Date.now() + patienceMs;
    let last = '';
    let fresh = false;
    for (;;) {
      const res: { status: number; body: T } | Error = await this.admin(fresh)
        .then((api) =>
          api.request<T>(method, path, { ...(body !== undefined ? { body } : {}), timeoutMs: 10_000 }),
        )
        .catch((error: unknown) => error as Error);
      if (!(res instanceof Error) && res.status < 300) return res.body;
      last = res instanceof Error ? res.message : `${res.status} ${JSON.stringify(res.body)}`;
      if (!(res instanceof Error) && res.status < 500 && res.status !== 401 && res.status !== 429)
        throw new Error(`${method} ${path}: ${last}`);
      if (Date.now() > deadline) throw new Error(`${method} ${path} kept failing: ${last}`);
      fresh = !(res instanceof Error) && res.status === 401;
      await sleep(500);
    }
  }
}
