/**
 * Notifications in the notifications service's own database: one row per order lifecycle
 * event, unique by event id (the inbox already makes handling effectively-once; the unique
 * key makes a duplicate impossible even without it).
 */
import { type Clock, type SqlDatabase, type SqlExecutor, systemClock, uuidv7 } from '@trellis/core';
import { migrate } from '../../platform/migrate.js';

/** A stored notification. */
export interface StoredNotification {
  id: string;
  eventId: string;
  userId: string;
  orderId: string;
  kind: string;
  message: string;
  createdAt: string;
}

/** The notifications table. */
export class NotificationsStore {
  private constructor(
    private readonly db: SqlDatabase,
    private readonly clock: Clock,
  ) {}

  /** Creates the table if needed. */
  static async create(db: SqlDatabase, clock: Clock = systemClock): Promise<NotificationsStore> {
    await migrate(db, 'shop_notifications', [
      `CREATE TABLE IF NOT EXISTS shop_notifications (
        id TEXT PRIMARY KEY,
        event_id TEXT NOT NULL UNIQUE,
        user_id TEXT NOT NULL,
        order_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        message TEXT NOT NULL,
        created_at BIGINT NOT NULL
      )`,
      'CREATE INDEX IF NOT EXISTS shop_notifications_user ON shop_notifications (user_id, created_at)',
    ]);
    return new NotificationsStore(db, clock);
  }

  /** Adds a notification inside `tx` (the inbox's transaction); a repeated event id is ignored. */
  async add(tx: SqlExecutor, n: Omit<StoredNotification, 'id' | 'createdAt'>): Promise<void> {
    const now = this.clock.now();
    await tx.execute(
      `INSERT INTO shop_notifications (id, event_id, user_id, order_id, kind, message, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (event_id) DO NOTHING`,
      [uuidv7(now), n.eventId, n.userId, n.orderId, n.kind, n.message, now],
    );
  }

  /** A user's notifications, newest first. */
  async of(userId: string, orderId: string | undefined, limit: number): Promise<StoredNotification[]> {
    const rows = await this.db.query<Record<string, unknown>>(
      orderId
        ? 'SELECT * FROM shop_notifications WHERE user_id = $1 AND order_id = $3 ORDER BY created_at DESC, id DESC LIMIT $2'
        : 'SELECT * FROM shop_notifications WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2',
      orderId ? [userId, limit, orderId] : [userId, limit],
    );
    return rows.map((r) => ({
      id: String(r.id),
      eventId: String(r.event_id),
      userId: String(r.user_id),
      orderId: String(r.order_id),
      kind: String(r.kind),
      message: String(r.message),
      createdAt: new Date(Number(r.created_at)).toISOString(),
    }));
  }
}
