/**
 * The users table, in the users service's own database. Emails are unique (lower-cased by the
 * contract), passwords are stored only as scrypt hashes, addresses as JSON.
 */
import { type Clock, type SqlDatabase, systemClock, uuidv7 } from '@trellis/core';
import type { Address } from '../../contracts/common.js';
import { decodeCursor, encodeCursor } from '../../contracts/common.js';
import type { User } from '../../contracts/users.js';
import { EmailTakenError } from '../../errors.js';
import { migrate } from '../../platform/migrate.js';

interface UserRow {
  id: string;
  email: string;
  name: string;
  role: 'customer' | 'admin';
  password_hash: string;
  address: string | null;
  created_at: number | string;
}

function toUser(row: UserRow): User {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    role: row.role,
    address: row.address ? (JSON.parse(row.address) as Address) : null,
    createdAt: new Date(Number(row.created_at)).toISOString(),
  };
}

/** Users in SQL (SQLite or PostgreSQL). */
export class UsersStore {
  private constructor(
    private readonly db: SqlDatabase,
    private readonly clock: Clock,
  ) {}

  /** Creates the table if needed. */
  static async create(db: SqlDatabase, clock: Clock = systemClock): Promise<UsersStore> {
    await migrate(db, 'shop_users', [
      `CREATE TABLE IF NOT EXISTS shop_users (
        id TEXT PRIMARY KEY,
        email TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        role TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        address TEXT,
        created_at BIGINT NOT NULL
      )`,
    ]);
    return new UsersStore(db, clock);
  }

  /** Inserts a user. Throws `EmailTakenError` when the email is registered. */
  async insert(input: {
    email: string;
    name: string;
    role: 'customer' | 'admin';
    passwordHash: string;
  }): Promise<User> {
    const now = this.clock.now();
    const row: UserRow = {
      id: uuidv7(now),
      email: input.email,
      name: input.name,
      role: input.role,
      password_hash: input.passwordHash,
      address: null,
      created_at: now,
    };
    const inserted = await this.db.execute(
      `INSERT INTO shop_users (id, email, name, role, password_hash, address, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (email) DO NOTHING`,
      [row.id, row.email, row.name, row.role, row.password_hash, row.address, row.created_at],
    );
    if (inserted === 0) throw new EmailTakenError();
    return toUser(row);
  }

  /** The user and password hash for `email`, if registered. */
  async findByEmail(email: string): Promise<{ user: User; passwordHash: string } | undefined> {
    const [row] = await this.db.query<UserRow>('SELECT * FROM shop_users WHERE email = $1', [email]);
    return row ? { user: toUser(row), passwordHash: row.password_hash } : undefined;
  }

  async get(id: string): Promise<User | undefined> {
    const [row] = await this.db.query<UserRow>('SELECT * FROM shop_users WHERE id = $1', [id]);
    return row ? toUser(row) : undefined;
  }

  /** Updates name and/or address; returns the user, or undefined when it does not exist. */
  async update(id: string, patch: { name?: string; address?: Address | null }): Promise<User | undefined> {
    if (patch.name !== undefined) {
      await this.db.execute('UPDATE shop_users SET name = $2 WHERE id = $1', [id, patch.name]);
    }
    if (patch.address !== undefined) {
      await this.db.execute('UPDATE shop_users SET address = $2 WHERE id = $1', [
        id,
        patch.address === null ? null : JSON.stringify(patch.address),
      ]);
    }
    return this.get(id);
  }

  /** A page of users, oldest first (ids are time-ordered UUIDv7s). */
  async list(limit: number, cursor?: string): Promise<{ items: User[]; nextCursor: string | null }> {
    const after = cursor ? String(decodeCursor(cursor, 1)[0]) : '';
    const rows = await this.db.query<UserRow>('SELECT * FROM shop_users WHERE id > $1 ORDER BY id LIMIT $2', [
      after,
      limit + 1,
    ]);
    const items = rows.slice(0, limit).map(toUser);
    const last = items.at(-1);
    return { items, nextCursor: rows.length > limit && last ? encodeCursor([last.id]) : null };
  }

  async count(): Promise<number> {
    const [row] = await this.db.query<{ n: number | string }>('SELECT COUNT(*) AS n FROM shop_users');
    return Number(row?.n ?? 0);
  }
}
