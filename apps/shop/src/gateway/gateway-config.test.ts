import { gatewayConfigSchema } from '@trellis/gateway';
import { describe, expect, it } from 'vitest';
import { ASSISTANT_RATE_LIMIT, SHOP_ROUTES, shopGatewayConfig } from './gateway-config.js';

const settings = {
  upstreams: {
    users: ['http://127.0.0.1:3001'],
    catalog: ['http://127.0.0.1:3002'],
    inventory: ['http://127.0.0.1:3003'],
    orders: ['http://127.0.0.1:3004', 'http://127.0.0.1:3104'],
    payments: ['http://127.0.0.1:3005'],
    shipping: ['http://127.0.0.1:3006'],
    notifications: ['http://127.0.0.1:3007'],
    assistant: ['http://127.0.0.1:3008'],
  },
  jwtSecret: 'j'.repeat(40),
  internalTokenSecret: 'i'.repeat(40),
  rateLimit: { capacity: 100, refillPerSecond: 50 },
};

describe('the shop gateway configuration', () => {
  it('is a valid gateway configuration', () => {
    const parsed = gatewayConfigSchema.parse(shopGatewayConfig(settings));
    expect(parsed.upstreams.orders?.instances).toHaveLength(2);
    expect(parsed.rateLimit.store).toBe('memory');
    expect(parsed.auth).toMatchObject({ issuer: 'trellis-shop', audience: 'trellis-shop-api' });
  });

  it('reserves /api/assistant for the assistant service', () => {
    const parsed = gatewayConfigSchema.parse(shopGatewayConfig(settings));
    expect(parsed.routes.find((r) => r.prefix === '/api/assistant')).toMatchObject({
      upstream: 'assistant',
      auth: 'required',
    });
  });

  it('gives the assistant a per-user budget of its own (its requests cost model calls)', () => {
    const parsed = gatewayConfigSchema.parse(shopGatewayConfig(settings));
    expect(parsed.routes.find((r) => r.name === 'assistant')?.rateLimit).toMatchObject(ASSISTANT_RATE_LIMIT);
  });

  it('keeps admin routes admin-only and public routes read-only', () => {
    for (const r of SHOP_ROUTES.filter((x) => x.prefix.startsWith('/api/admin')))
      expect(r.auth).toEqual({ roles: ['admin'] });
    for (const r of SHOP_ROUTES.filter((x) => x.auth === 'public' && x.name !== 'auth'))
      expect(r.methods).toEqual(['GET', 'HEAD']);
  });

  it('shares limits through Redis when a URL is given', () => {
    const parsed = gatewayConfigSchema.parse(
      shopGatewayConfig({ ...settings, redisUrl: 'redis://127.0.0.1:6379' }),
    );
    expect(parsed.rateLimit).toMatchObject({ store: 'redis', redisUrl: 'redis://127.0.0.1:6379' });
  });

  it('leaves out routes to services that have no instances', () => {
    const { assistant: _assistant, ...rest } = settings.upstreams;
    const parsed = gatewayConfigSchema.parse(shopGatewayConfig({ ...settings, upstreams: rest }));
    expect(parsed.routes.some((r) => r.upstream === 'assistant')).toBe(false);
  });
});
