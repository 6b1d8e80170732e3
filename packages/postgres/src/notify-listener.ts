import type { Clock, TimerHandle } from '@trellis/core';
import type pg from 'pg';

/**
 * LISTENs on one channel with a dedicated pooled connection and calls `onNotify` for every
 * notification. Notifications are hints only: when the connection drops (a server restart),
 * the listener reconnects after `reconnectMs` and calls `onNotify` once, since anything sent
 * meanwhile was missed (a spurious wake-up costs one read; a missed one, a poll); the
 * caller's poll covers the gap in between. Used by the outbox relays and the event store.
 */
export class NotifyListener {
  private client: pg.PoolClient | undefined;
  private connecting: Promise<void> | undefined;
  private retry: TimerHandle | undefined;
  private active = false;
  private lostOnce = false;

  constructor(
    private readonly pool: pg.Pool,
    private readonly channel: string,
    private readonly onNotify: () => void,
    private readonly clock: Clock,
    /**
     * When LISTEN is in place, call `onNotify`: `always` (also the first time), or only
     * `after-loss` (once LISTEN is back after a lost connection).
     */
    private readonly wakeOnListen: 'always' | 'after-loss' = 'always',
    private readonly reconnectMs = 1000,
  ) {}

  /** Starts listening (idempotent); resolves once LISTEN is in place or has failed. */
  start(): Promise<void> {
    this.active = true;
    if (this.client) return Promise.resolve();
    this.connecting ??= this.connect().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  /** Stops listening and returns the connection to the pool. */
  async stop(): Promise<void> {
    this.active = false;
    if (this.retry) this.clock.clearTimeout(this.retry);
    this.retry = undefined;
    await this.connecting;
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    client.removeAllListeners('notification');
    try {
      await client.query(`UNLISTEN ${this.channel}`);
      client.release();
    } catch (err) {
      client.release(err as Error);
    }
  }

  private async connect(): Promise<void> {
    let client: pg.PoolClient | undefined;
    try {
      client = await this.pool.connect();
      const c = client;
      c.on('notification', (msg) => {
        if (msg.channel === this.channel) this.onNotify();
      });
      c.on('error', (err) => this.lost(c, err));
      await c.query(`LISTEN ${this.channel}`);
      if (!this.active) {
        c.release();
        return;
      }
      this.client = c;
      if (this.wakeOnListen === 'always' || this.lostOnce) this.onNotify();
    } catch (err) {
      client?.release(err as Error);
      this.scheduleReconnect();
    }
  }

  private lost(client: pg.PoolClient, err: Error): void {
    if (this.client !== client) return;
    this.client = undefined;
    this.lostOnce = true;
    client.release(err);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (!this.active || this.retry) return;
    this.retry = this.clock.setTimeout(() => {
      this.retry = undefined;
      if (this.active) void this.start();
    }, this.reconnectMs);
  }
}
