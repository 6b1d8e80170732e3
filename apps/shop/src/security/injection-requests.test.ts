/**
 * The injection test's aim: every spot of every public route is a target, a payload lands at
 * its spot exactly and nowhere else, and the payload list holds every family the issue names,
 * each built so that running it would leave a trace.
 */
import { describe, expect, it } from 'vitest';
import {
  INJECTION_PAYLOADS,
  INJECTION_SAMPLE,
  MARKER_TABLE,
  REFUSED_PAYLOADS,
  STATEMENT_MARKERS,
} from './injection-payloads.js';
import { injectionRequest, injectionTargets, placeAt, stringFields, valueAt } from './injection-requests.js';
import { publicRoutes } from './route-catalog.js';
import { jsonSchemaOf } from './schema-arbitrary.js';

const routes = publicRoutes();
const route = (key: string) => {
  const r = routes.find((x) => x.key === key);
  if (!r) throw new Error(`no route ${key}`);
  return r;
};

describe('injection targets', () => {
  it('cover every path parameter, query parameter and string body field of every public route', () => {
    const all = routes.flatMap((r) => injectionTargets(r).map((t) => `${r.key} ${t.where} ${t.field}`));
    expect(all.length).toBeGreaterThan(100);
    expect(all).toEqual(
      expect.arrayContaining([
        'POST /api/orders body shippingAddress.line2',
        'POST /api/orders body items.0.productId',
        'POST /api/orders body paymentMethod',
        'GET /api/products query q',
        'GET /api/products query limit',
        'GET /api/ops/read-models/:name/:id path name',
        'POST /api/ops/dead-letters/purge body ids.0',
        'POST /api/assistant/chat body message',
      ]),
    );
    // Every route that takes any input has a target.
    const inputless = routes.filter((r) => injectionTargets(r).length === 0).map((r) => r.key);
    for (const key of inputless) {
      const e = route(key).endpoint;
      expect(e.params ?? e.query, key).toBeUndefined();
      expect(e.body ? stringFields(jsonSchemaOf(e.body)) : [], key).toEqual([]);
    }
  });

  it('place the payload at its spot and nowhere else', () => {
    const orders = route('POST /api/orders');
    const base = {
      params: {},
      query: [] as Array<[string, string]>,
      body: {
        items: [{ productId: 'p-mug', quantity: 1 }],
        shippingAddress: { city: 'A' },
        paymentMethod: 'pm',
      },
    };
    const payload = "' OR '1'='1";
    const r = injectionRequest(orders, base, { where: 'body', field: 'shippingAddress.city' }, payload);
    expect(JSON.parse(r.body as string)).toEqual({ ...base.body, shippingAddress: { city: payload } });
    expect(base.body.shippingAddress.city).toBe('A');
    const item = injectionRequest(orders, base, { where: 'body', field: 'items.0.productId' }, payload);
    expect(JSON.parse(item.body as string).items).toEqual([{ productId: payload, quantity: 1 }]);
    const product = route('GET /api/products/:id');
    const p = injectionRequest(
      product,
      { params: { id: 'p-mug' }, query: [] },
      { where: 'path', field: 'id' },
      "a'/b",
    );
    expect(p.path).toBe(`/api/products/${encodeURIComponent("a'/b")}`);
    const search = route('GET /api/products');
    const q = injectionRequest(
      search,
      { params: {}, query: [['limit', '5']] },
      { where: 'query', field: 'q' },
      '%_',
    );
    expect(new URLSearchParams(q.path.split('?')[1]).getAll('q')).toEqual(['%_']);
    expect(placeAt(undefined, ['a', '0', 'b'], 'x')).toEqual({ a: [{ b: 'x' }] });
    expect(valueAt({ a: [{ b: 'x' }] }, ['a', '0', 'b'])).toBe('x');
  });
});

describe('the payloads', () => {
  const texts = INJECTION_PAYLOADS.map((p) => p.text);

  it('hold every family: tautology, stacked, comments, placeholders, UNION, pg_sleep, casts, E strings, backslashes', () => {
    for (const needle of [
      "'1'='1",
      '; DROP TABLE',
      '/**/',
      '--',
      '$1',
      '?',
      'UNION SELECT',
      'pg_sleep',
      '::text',
      "E'",
      '\\',
    ])
      expect(
        texts.some((t) => t.includes(needle)),
        needle,
      ).toBe(true);
    expect(REFUSED_PAYLOADS.every((p) => p.text.includes('\u0000'))).toBe(true);
  });

  it('are sent as they are: distinct, no surrounding whitespace for .trim() to take, short enough for most fields', () => {
    expect(new Set(texts).size).toBe(texts.length);
    expect(new Set(INJECTION_PAYLOADS.map((p) => p.name)).size).toBe(texts.length);
    for (const t of texts) expect(t.trim(), JSON.stringify(t)).toBe(t);
    expect(texts.filter((t) => t.length <= 100).length).toBe(texts.length);
  });

  it('leave a trace if run: every statement-shaped payload matches a marker the watcher looks for', () => {
    const statements = texts.filter((t) => /DROP|CREATE|pg_sleep|UNION|TO PROGRAM|OR '1'='1|OR 1=1/i.test(t));
    expect(statements.length).toBeGreaterThan(10);
    for (const t of statements)
      expect(
        STATEMENT_MARKERS.some((m) => m.test(t)),
        t,
      ).toBe(true);
    expect(texts.filter((t) => t.includes(MARKER_TABLE)).length).toBeGreaterThanOrEqual(2);
  });

  it('the embedded run samples every family', () => {
    expect(INJECTION_SAMPLE.length).toBeGreaterThanOrEqual(15);
    expect(INJECTION_SAMPLE.every((p) => INJECTION_PAYLOADS.includes(p))).toBe(true);
  });
});
