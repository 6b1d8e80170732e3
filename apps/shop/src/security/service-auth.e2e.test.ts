/**
 * Service-to-service authentication, proven on a running shop: a service accepts requests only
 * from the gateway or a peer service (a short-lived internal identity token signed with the
 * installation's secret). Reaching a service port directly with any forged credential — plain
 * X-User-* headers, unsigned, expired, not-yet-valid, wrong-issuer, wrong-audience,
 * wrong-algorithm, tampered or foreign tokens, a user's JWT — gets 401 on every route of every
 * service instance, enumerated from the contracts and checked against each service's own
 * OpenAPI document. Positive controls show the same requests pass authentication with a
 * genuine token, and the databases show none of the refused requests wrote anything.
 */
import type { OutgoingHttpHeaders } from 'node:http';
import type { SqlDatabase } from '@trellis/core';
import type { EndpointAuth } from '@trellis/service';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestShop, type TestShop } from '../e2e/test-shop.js';
import { type ForgedIdentity, forgedIdentities, genuineToken } from './forged-identities.js';
import { fillPath, send } from './raw-http.js';
import { OPEN_SERVICE_PATHS, type ServiceRoute, serviceRoutes } from './route-catalog.js';
import { exampleOf, jsonSchemaOf } from './schema-arbitrary.js';
import { closeAll, databasesOf, diffSnapshots, type StateSnapshot, snapshot } from './state-snapshot.js';

let t: TestShop;
let forged: ForgedIdentity[];
let dbs: Record<string, SqlDatabase>;
let before: StateSnapshot;
const routes = serviceRoutes();

beforeAll(async () => {
  t = await startTestShop({ serviceEnv: { TRELLIS_AGENT_PROVIDER: 'none' } });
  forged = await forgedIdentities(t.shop.secrets);
  dbs = databasesOf(t.shop.topology);
  before = await snapshot(dbs);
});

afterAll(async () => {
  if (dbs) await closeAll(dbs);
  await t?.stop();
});

/** A request to `route` that is valid in every way except, possibly, its credentials. */
function requestFor(route: ServiceRoute, headers: OutgoingHttpHeaders, body?: string) {
  const params = Object.fromEntries(
    Object.entries(
      (exampleOf(route.endpoint.params && jsonSchemaOf(route.endpoint.params)) ?? {}) as object,
    ).map(([k, v]) => [k, encodeURIComponent(String(v))]),
  );
  const example = route.endpoint.body
    ? JSON.stringify(exampleOf(jsonSchemaOf(route.endpoint.body)))
    : undefined;
  const payload = body ?? example;
  return {
    method: route.method,
    path: fillPath(route.path, params),
    headers: { ...headers, ...(payload !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(payload !== undefined ? { body: payload } : {}),
  };
}

/** Runs `jobs` with at most `width` in flight. */
async function pool<T>(jobs: Array<() => Promise<T>>, width = 16): Promise<T[]> {
  const out: T[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < jobs.length) {
        const i = next++;
        out[i] = await (jobs[i] as () => Promise<T>)();
      }
    }),
  );
  return out;
}

const instances = () => t.shop.topology.instances;
const routesOf = (service: string) => routes.filter((r) => r.service === service);
const isPublic = (auth: EndpointAuth) => auth === 'public';

describe('the catalog of routes under attack', () => {
  it('covers every operation each service documents in its own OpenAPI document', async () => {
    const missing: string[] = [];
    for (const i of instances()) {
      const res = await send(i.url, { method: 'GET', path: '/openapi.json' });
      expect(res.status, `${i.service} serves /openapi.json without a token`).toBe(200);
      const doc = res.json as { paths: Record<string, Record<string, unknown>> };
      for (const [path, ops] of Object.entries(doc.paths)) {
        for (const method of Object.keys(ops)) {
          const fastify = path.replace(/\{([^}]+)\}/g, ':$1');
          if ((OPEN_SERVICE_PATHS as readonly string[]).includes(fastify)) continue;
          const known = routesOf(i.service).some(
            (r) => r.path === fastify && r.method === method.toUpperCase(),
          );
          if (!known) missing.push(`${i.service}: ${method.toUpperCase()} ${fastify}`);
        }
      }
    }
    expect(missing).toEqual([]);
    // Every service process is attacked, the assistant included.
    expect(new Set(instances().map((i) => i.service))).toEqual(new Set(routes.map((r) => r.service)));
  });
});

describe('a service port reached directly, bypassing the gateway', () => {
  it('answers every forged credential with 401 on every non-public route of every instance', async () => {
    const jobs: Array<() => Promise<string | undefined>> = [];
    for (const i of instances()) {
      for (const route of routesOf(i.service)) {
        for (const f of forged) {
          // Public routes serve callers without credentials by design; forged ones are still refused.
          if (isPublic(route.auth) && f.name === 'no credentials at all') continue;
          jobs.push(async () => {
            const res = await send(i.url, requestFor(route, f.headers));
            const code = (res.json as { error?: { code?: string } } | undefined)?.error?.code;
            return res.status === 401 && code === 'UNAUTHORIZED'
              ? undefined
              : `${i.service} ${route.method} ${route.path} with ${f.name}: ${res.status} ${res.text.slice(0, 120)}`;
          });
        }
      }
    }
    const failures = (await pool(jobs)).filter(Boolean);
    expect(jobs.length).toBeGreaterThan(2000);
    expect(failures).toEqual([]);
  });

  it('lets a genuine anonymous token (a request that came through the gateway) reach public routes only', async () => {
    const anonymous = await genuineToken(t.shop.secrets, {
      subject: 'anonymous',
      kind: 'anonymous',
      roles: [],
    });
    const failures: string[] = [];
    for (const i of instances()) {
      for (const route of routesOf(i.service)) {
        const res = await send(i.url, requestFor(route, { 'x-trellis-identity': anonymous }, '[]'));
        const ok = isPublic(route.auth) ? res.status !== 401 && res.status !== 403 : res.status === 401;
        if (!ok) failures.push(`${i.service} ${route.method} ${route.path}: ${res.status}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('positive control: the same requests pass authentication with a genuine token of the right kind', async () => {
    const failures: string[] = [];
    for (const i of instances()) {
      for (const route of routesOf(i.service)) {
        const token = await genuineToken(t.shop.secrets, identityFor(route.auth));
        // A body no route accepts: authenticated and authorised, then refused before acting.
        const res = await send(i.url, requestFor(route, { 'x-trellis-identity': token }, '[]'));
        // Without a model the assistant says so (503) after authenticating; nothing else may fail.
        const noModel =
          (res.json as { error?: { code?: string } } | undefined)?.error?.code ===
          'AGENT_NO_MODEL_CONFIGURED';
        if (res.status === 401 || res.status === 403 || (res.status >= 500 && !noModel))
          failures.push(
            `${i.service} ${route.method} ${route.path}: ${res.status} ${res.text.slice(0, 120)}`,
          );
      }
    }
    expect(failures).toEqual([]);
  });

  it('refuses a genuine user token (even an admin’s) on service-only routes with 403', async () => {
    const admin = await genuineToken(t.shop.secrets, {
      subject: 'someone',
      kind: 'user',
      roles: ['admin', 'customer'],
    });
    const serviceOnly = routes.filter(
      (r) => typeof r.auth === 'object' && r.auth.roles?.length === 1 && r.auth.roles[0] === 'service',
    );
    expect(serviceOnly.map((r) => r.name).sort()).toEqual(
      [
        'inventory.commit',
        'inventory.release',
        'inventory.reserve',
        'payments.charge',
        'payments.refund',
        'shipping.cancelShipment',
        'shipping.createShipment',
      ].sort(),
    );
    for (const route of serviceOnly) {
      const i = instances().find((x) => x.service === route.service);
      const res = await send(i?.url ?? '', requestFor(route, { 'x-trellis-identity': admin }));
      expect(res.status, `${route.name}`).toBe(403);
    }
  });

  it('serves only health, metrics and the OpenAPI document without a token, and they carry no secret', async () => {
    const secrets = [
      t.shop.secrets.jwtSecret,
      t.shop.secrets.internalTokenSecret,
      t.shop.secrets.demo.alice,
      t.shop.secrets.demo.admin,
    ];
    for (const i of instances()) {
      for (const path of OPEN_SERVICE_PATHS) {
        const res = await send(i.url, { method: 'GET', path });
        expect(res.status, `${i.service} ${path}`).toBe(200);
        for (const s of secrets)
          expect(res.text.includes(s), `${i.service} ${path} leaks a secret`).toBe(false);
      }
      // The exempt prefixes do not open anything else.
      for (const path of [
        '/metrics/../orders',
        '/health/../users/me',
        '/openapi.json/../ops/info',
        '/healthz',
      ]) {
        const res = await send(i.url, { method: 'GET', path });
        expect([401, 404], `${i.service} ${path}: ${res.status}`).toContain(res.status);
      }
    }
  });

  it('wrote nothing: every table of every database is as it was before the attack', async () => {
    expect(diffSnapshots(before, await snapshot(dbs))).toEqual([]);
  });
});

/** An identity that satisfies `auth` on `service` (the positive control). */
function identityFor(auth: EndpointAuth) {
  if (typeof auth === 'object' && auth.roles?.includes('service'))
    return { subject: 'orders', kind: 'service' as const, roles: ['service'] };
  if (typeof auth === 'object' && auth.roles?.length)
    return { subject: 'operator', kind: 'user' as const, roles: [auth.roles[0] as string] };
  // A customer (the assistant serves people only: a service token is never a user there).
  return { subject: 'a-customer', kind: 'user' as const, roles: ['customer'] };
}
