import { describe, expect, it } from 'vitest';
import { shopConfigSchema } from './shop-config.js';
import { backendLocation } from './shop-service.js';

const base = {
  SHOP_MODE: 'distributed',
  DATABASE_URL: 'postgres://shop@127.0.0.1:5432/orders',
  INTERNAL_TOKEN_SECRET: 'x'.repeat(32),
};

describe('backendLocation (distributed)', () => {
  it('bounds every statement and connection wait by 10 s unless told otherwise', () => {
    const location = backendLocation(shopConfigSchema.parse(base), 'orders');
    expect(location).toMatchObject({ kind: 'postgres', queryTimeoutMs: 10_000, connectTimeoutMs: 10_000 });
  });

  it('takes PG_QUERY_TIMEOUT_MS and PG_CONNECT_TIMEOUT_MS from the environment; 0 turns them off', () => {
    const config = shopConfigSchema.parse({
      ...base,
      PG_QUERY_TIMEOUT_MS: '2500',
      PG_CONNECT_TIMEOUT_MS: '0',
    });
    expect(backendLocation(config, 'orders')).toMatchObject({ queryTimeoutMs: 2500, connectTimeoutMs: 0 });
  });

  it('refuses a negative or fractional timeout, naming the variable', () => {
    const result = shopConfigSchema.safeParse({ ...base, PG_QUERY_TIMEOUT_MS: '-1' });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path.join('.'))).toEqual(['PG_QUERY_TIMEOUT_MS']);
    expect(shopConfigSchema.safeParse({ ...base, PG_CONNECT_TIMEOUT_MS: '1.5' }).success).toBe(false);
  });
});
