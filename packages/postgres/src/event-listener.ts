import type { Clock, TimerHandle } from '@trellis/core';
import type pg from 'pg';
import { EVENTS_CHANNEL } from './event-schema.js';

/**
 * LISTENs on the events channel with one pooled connection, so readers in this process wake
 * up when *any* process commits an append. Notifications are hints: a lost connection only
 * delays readers until their poll, and the listener reconnects by itself.
 */
export class PgEventListener {
  private client: pg.PoolClient | undefined;
  private connecting: Promise<void> | undefined;
  private retry: TimerHandle | undefined;
  private active = false;
  private lostOnce = false;

  constructor(
    private readonly pool: pg.Pool,
    private readonly onNotify: () => void,
    private readonly clock: Clock,
    private readonly reconnectMs = 1000,
  ) {}

  /** Starts listening (idempotent); resolves once LISTEN is in place or failed. */
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
      await client.query(`UNLISTEN ${EVENTS_CHANNEL}`);
      client.release();
    } catch (err) {
      client.release(err as Error);
    }
  }

  private async connect(): Promise<void> {
    let client: pg.PoolClient | undefined;
    try {
      client = await this.pool.connect();
      client.on('notification', (msg) => {
        if (msg.channel === EVENTS_CHANNEL) this.onNotify();
      });
      client.on('error', (err) => this.lost(client, err));
      await client.query(`LISTEN ${EVENTS_CHANNEL}`);
      if (!this.active) {
        client.release();
        return;
      }
      this.client = client;
      // After a lost connection, commits may have happened while nobody listened: wake
      // readers so they look (a spurious wake-up costs one read; a missed one, a poll).
      if (this.lostOnce) this.onNotify();
    } catch (err) {
      client?.release(err as Error);
      this.scheduleReconnect();
    }
  }

  private lost(client: pg.PoolClient | undefined, err: Error): void {
    if (!client || this.client !== client) return;
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
