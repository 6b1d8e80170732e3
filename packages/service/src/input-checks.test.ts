import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { endpoint } from './endpoint.js';
import { findInputProblem, textProblem } from './input-checks.js';
import { route } from './route.js';
import { createService, type Service } from './service.js';

// biome-ignore lint/suspicious/noExplicitAny: response bodies are inspected loosely in tests
const json = async (res: Response): Promise<any> => res.json();
const services: Service[] = [];
afterEach(async () => {
  await Promise.all(services.splice(0).map((s) => s.shutdown('test')));
});

const rename = endpoint({
  method: 'POST',
  path: '/things/:id',
  params: z.object({ id: z.string() }),
  query: z.object({ q: z.string().optional() }),
  body: z.object({ name: z.string(), tags: z.array(z.string()).optional(), meta: z.unknown().optional() }),
  response: z.object({ ok: z.boolean() }),
});

async function start(extra: Partial<Parameters<typeof createService>[0]> = {}) {
  const written: unknown[] = [];
  const service = createService({
    name: 'things',
    logger: { level: 'silent' },
    routes: [
      route(rename, ({ body }) => {
        written.push(body);
        return { ok: true };
      }),
    ],
    ...extra,
  });
  services.push(service);
  const url = await service.listen({ port: 0, signals: false });
  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });
  return { url, post, written };
}

describe('text and nesting checks', () => {
  it('classifies strings: NUL, lone surrogates (either half, reversed pair), and well-formed text', () => {
    expect(textProblem('a\u0000b')).toBe('nul');
    expect(textProblem('a\ud800b')).toBe('lone-surrogate');
    expect(textProblem('\udc00')).toBe('lone-surrogate');
    expect(textProblem('\udc00\ud800')).toBe('lone-surrogate');
    expect(textProblem('\ud83d\udca9 \u202e ok \u200b')).toBeUndefined();
  });

  it('finds problems in nested values and keys, and bounds depth without recursion', () => {
    expect(findInputProblem({ a: [{ b: 'x\u0000' }] })).toMatchObject({ path: 'a.0.b', reason: 'nul' });
    expect(findInputProblem({ 'k\ud800': 1 })).toMatchObject({ path: 'k\ud800', reason: 'lone-surrogate' });
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(findInputProblem({ x: deep }, 32)).toMatchObject({ reason: 'too-deep' });
    expect(findInputProblem({ a: { b: { c: 'fine' } } }, 3)).toBeUndefined();
    expect(findInputProblem({ a: { b: { c: {} } } }, 3)).toMatchObject({ path: 'a.b.c', reason: 'too-deep' });
  });

  it('refuses NUL and lone surrogates in a body with 400 naming the field; the handler never runs', async () => {
    const { post, written } = await start();
    const nul = await post('/things/t1', JSON.stringify({ name: 'a\u0000b' }));
    expect(nul.status).toBe(400);
    expect(await nul.json()).toMatchObject({
      error: { code: 'VALIDATION_FAILED', details: { issues: [{ path: 'name' }] } },
    });
    // JSON escapes make a lone surrogate; z.string() alone would accept it.
    const lone = await post('/things/t1', '{"name":"ok","tags":["\\ud800"]}');
    expect(lone.status).toBe(400);
    expect((await json(lone)).error.details.issues[0].path).toBe('tags.0');
    expect(written).toEqual([]);
  });

  it('refuses them in the query and the path too', async () => {
    const { post, written } = await start();
    expect((await post('/things/t1?q=%00', '{"name":"ok"}')).status).toBe(400);
    const param = await post('/things/a%00b', '{"name":"ok"}');
    expect(param.status).toBe(400);
    expect((await json(param)).error.message).toMatch(/params at "id"/);
    expect(written).toEqual([]);
  });

  it('refuses a body nested deeper than the limit, even where the schema accepts anything (no 500)', async () => {
    const { post, written } = await start();
    const deep = `{"name":"ok","meta":${'['.repeat(5000)}${']'.repeat(5000)}}`;
    const res = await post('/things/t1', deep);
    expect(res.status).toBe(400);
    expect((await json(res)).error.message).toMatch(/nested too deeply/);
    // With an Idempotency-Key the fingerprint would have walked it recursively (it was a 500).
    expect((await post('/things/t1', deep, { 'idempotency-key': 'k-deep' })).status).toBe(400);
    expect((await post('/things/t1', '{"name":"ok","meta":[[[1]]]}')).status).toBe(200);
    expect(written).toHaveLength(1);
  });

  it('can be turned off or given another depth', async () => {
    const off = await start({ inputChecks: false });
    expect((await off.post('/things/t1', JSON.stringify({ name: 'a\u0000b' }))).status).toBe(200);
    const shallow = await start({ inputChecks: { maxDepth: 2 } });
    expect((await shallow.post('/things/t1', '{"name":"ok","meta":{"a":1}}')).status).toBe(200);
    expect((await shallow.post('/things/t1', '{"name":"ok","meta":{"a":[]}}')).status).toBe(400);
  });
});
