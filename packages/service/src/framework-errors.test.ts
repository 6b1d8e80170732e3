/**
 * Errors Fastify's router raises before any hook runs (an undecodable path, a parameter over
 * its length limit) answer in the one error shape, not Fastify's own.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { endpoint } from './endpoint.js';
import { route } from './route.js';
import { createService, type Service } from './service.js';

const services: Service[] = [];
afterEach(async () => {
  await Promise.all(services.splice(0).map((s) => s.shutdown('test')));
});

const getThing = endpoint({
  method: 'GET',
  path: '/things/:id',
  params: z.object({ id: z.string().max(500) }),
  response: z.object({ id: z.string() }),
});

async function start(): Promise<string> {
  const service = createService({
    name: 'things',
    logger: { level: 'silent' },
    routes: [route(getThing, ({ params }) => ({ id: params.id }))],
  });
  services.push(service);
  return service.listen({ port: 0, signals: false });
}

describe('router errors', () => {
  it('an undecodable path is 400 BAD_REQUEST in the Trellis shape', async () => {
    const res = await fetch(`${await start()}/things/%ff`);
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string } };
    expect(body.error.code).toBe('BAD_REQUEST');
    expect(JSON.stringify(body)).not.toContain('FST_');
  });

  it('a parameter over the router’s length limit is 414 URI_TOO_LONG in the Trellis shape', async () => {
    const res = await fetch(`${await start()}/things/${'a'.repeat(150)}`);
    expect(res.status).toBe(414);
    const body = (await res.json()) as { error: { code: string } };
    expect(body.error.code).toBe('URI_TOO_LONG');
    expect(JSON.stringify(body)).not.toContain('FST_');
  });
});
