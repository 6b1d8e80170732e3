/**
 * Products in the catalog service's own database. Search is a case-insensitive substring
 * match over name, description and SKU (plain SQL that runs on SQLite and PostgreSQL alike);
 * listings are keyset-paginated by (name, id), so pages stay stable while products are added.
 */
import { type Clock, ConflictError, type SqlDatabase, systemClock, uuidv7 } from '@trellis/core';
import type { Product } from '../../contracts/catalog.js';
import { decodeCursor, encodeCursor } from '../../contracts/common.js';
import { migrate } from '../../platform/migrate.js';

interface ProductRow {
  id: string;
  sku: string;
  name: string;
  description: string;
  category: string;
  price_cents: number | string;
  created_at: number | string;
}

function toProduct(row: ProductRow): Product {
  return {
    id: row.id,
    sku: row.sku,
    name: row.name,
    description: row.description,
    category: row.category,
    priceCents: Number(row.price_cents),
    currency: 'EUR',
    createdAt: new Date(Number(row.created_at)).toISOString(),
  };
}

/** Filters of a listing. */
export interface ProductQuery {
  q?: string | undefined;
  category?: string | undefined;
  minPrice?: number | undefined;
  maxPrice?: number | undefined;
  limit: number;
  cursor?: string | undefined;
}

/** Escapes LIKE wildcards so a search for `50%` means the text `50%`. */
function likePattern(text: string): string {
  return `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** The product table. */
export class CatalogStore {
  private constructor(
    private readonly db: SqlDatabase,
    private readonly clock: Clock,
  ) {}

  /** Creates the table and indexes if needed. */
  static async create(db: SqlDatabase, clock: Clock = systemClock): Promise<CatalogStore> {
    await migrate(db, 'shop_products', [
      `CREATE TABLE IF NOT EXISTS shop_products (
        id TEXT PRIMARY KEY,
        sku TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        description TEXT NOT NULL,
        category TEXT NOT NULL,
        price_cents BIGINT NOT NULL,
        created_at BIGINT NOT NULL
      )`,
      'CREATE INDEX IF NOT EXISTS shop_products_name ON shop_products (name, id)',
      'CREATE INDEX IF NOT EXISTS shop_products_category ON shop_products (category, name, id)',
    ]);
    return new CatalogStore(db, clock);
  }

  /** Adds a product. Throws `ConflictError` when the id or SKU exists. */
  async insert(
    input: Omit<Product, 'id' | 'createdAt' | 'currency'> & { id?: string | undefined },
  ): Promise<Product> {
    const now = this.clock.now();
    const row: ProductRow = {
      id: input.id ?? uuidv7(now),
      sku: input.sku,
      name: input.name,
      description: input.description,
      category: input.category,
      price_cents: input.priceCents,
      created_at: now,
    };
    const inserted = await this.db.execute(
      `INSERT INTO shop_products (id, sku, name, description, category, price_cents, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
      [row.id, row.sku, row.name, row.description, row.category, row.price_cents, row.created_at],
    );
    if (inserted === 0) throw new ConflictError(`A product with id ${row.id} or SKU ${row.sku} exists`);
    return toProduct(row);
  }

  async get(id: string): Promise<Product | undefined> {
    const [row] = await this.db.query<ProductRow>('SELECT * FROM shop_products WHERE id = $1', [id]);
    return row ? toProduct(row) : undefined;
  }

  /** The products among `ids` that exist. */
  async getMany(ids: readonly string[]): Promise<Product[]> {
    const unique = [...new Set(ids)];
    const placeholders = unique.map((_, i) => `$${i + 1}`).join(', ');
    const rows = await this.db.query<ProductRow>(
      `SELECT * FROM shop_products WHERE id IN (${placeholders})`,
      unique,
    );
    return rows.map(toProduct);
  }

  /** Updates the given fields; returns the product, or undefined when it does not exist. */
  async update(
    id: string,
    patch: {
      name?: string | undefined;
      description?: string | undefined;
      category?: string | undefined;
      priceCents?: number | undefined;
    },
  ): Promise<Product | undefined> {
    const columns: Record<string, unknown> = {
      name: patch.name,
      description: patch.description,
      category: patch.category,
      price_cents: patch.priceCents,
    };
    const sets: string[] = [];
    const params: unknown[] = [id];
    for (const [column, value] of Object.entries(columns)) {
      if (value === undefined) continue;
      params.push(value);
      sets.push(`${column} = $${params.length}`);
    }
    if (sets.length > 0)
      await this.db.execute(`UPDATE shop_products SET ${sets.join(', ')} WHERE id = $1`, params);
    return this.get(id);
  }

  /** A page of products matching the query, by name then id. */
  async list(query: ProductQuery): Promise<{ items: Product[]; nextCursor: string | null }> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: (p: string) => string, value: unknown) => {
      params.push(value);
      where.push(sql(`$${params.length}`));
    };
    if (query.q) {
      const pattern = likePattern(query.q);
      add(
        (p) =>
          `(LOWER(name) LIKE ${p} ESCAPE '\\' OR LOWER(description) LIKE ${p} ESCAPE '\\' OR LOWER(sku) LIKE ${p} ESCAPE '\\')`,
        pattern,
      );
    }
    if (query.category) add((p) => `category = ${p}`, query.category);
    if (query.minPrice !== undefined) add((p) => `price_cents >= ${p}`, query.minPrice);
    if (query.maxPrice !== undefined) add((p) => `price_cents <= ${p}`, query.maxPrice);
    if (query.cursor) {
      const [name, id] = decodeCursor(query.cursor, 2);
      params.push(String(name), String(id));
      const n = params.length;
      where.push(`(name > $${n - 1} OR (name = $${n - 1} AND id > $${n}))`);
    }
    params.push(query.limit + 1);
    const rows = await this.db.query<ProductRow>(
      `SELECT * FROM shop_products ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY name, id LIMIT $${params.length}`,
      params,
    );
    const items = rows.slice(0, query.limit).map(toProduct);
    const last = items.at(-1);
    return {
      items,
      nextCursor: rows.length > query.limit && last ? encodeCursor([last.name, last.id]) : null,
    };
  }

  /** Categories with product counts. */
  async categories(): Promise<Array<{ category: string; count: number }>> {
    const rows = await this.db.query<{ category: string; n: number | string }>(
      'SELECT category, COUNT(*) AS n FROM shop_products GROUP BY category ORDER BY category',
    );
    return rows.map((r) => ({ category: r.category, count: Number(r.n) }));
  }

  async count(): Promise<number> {
    const [row] = await this.db.query<{ n: number | string }>('SELECT COUNT(*) AS n FROM shop_products');
    return Number(row?.n ?? 0);
  }
}
