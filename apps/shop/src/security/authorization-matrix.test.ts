/**
 * The authorization matrix stays whole and in step: its rows are exactly the routes the
 * gateway exposes (from the route catalog), the service-only rows exactly the routes only a
 * service may call, the tool rows exactly the assistant's tools, every row has a request in
 * the e2e test, and SECURITY.md shows the tables rendered from this data, byte for byte.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SHOP_TOOL_NAMES } from '../services/assistant/shop-tools.js';
import {
  AUTHORIZATION_MATRIX,
  INTERNAL_ROUTES,
  MATRIX_MARKERS,
  MATRIX_ROLES,
  renderAuthorizationMatrix,
  TOOL_MATRIX,
} from './authorization-matrix.js';
import { ROUTE_RECIPES } from './authorization-requests.js';
import { internalRoutes, publicRoutes } from './route-catalog.js';

const securityMd = new URL('../../../../SECURITY.md', import.meta.url);

/** The rendered part of a document, between the markers (undefined without them). */
function renderedPart(doc: string): string | undefined {
  const start = doc.indexOf(MATRIX_MARKERS.start);
  const end = doc.indexOf(MATRIX_MARKERS.end);
  if (start < 0 || end < start) return undefined;
  return doc.slice(start + MATRIX_MARKERS.start.length, end).trim();
}

describe('the authorization matrix', () => {
  it('has one row for every route the gateway exposes, and no other', () => {
    const routes = AUTHORIZATION_MATRIX.map((r) => r.route);
    expect(new Set(routes).size).toBe(routes.length);
    expect([...routes].sort()).toEqual(
      publicRoutes()
        .map((r) => r.key)
        .sort(),
    );
  });

  it('names an outcome for every role in every row', () => {
    for (const r of AUTHORIZATION_MATRIX)
      expect(Object.keys(r.outcomes).sort()).toEqual([...MATRIX_ROLES].sort());
  });

  it('agrees with the gateway’s own route table where the gateway decides', () => {
    for (const p of publicRoutes()) {
      const row = AUTHORIZATION_MATRIX.find((r) => r.route === p.key);
      if (p.gatewayAuth === 'public') expect(row?.outcomes.anonymous, p.key).toBe('allow');
      else expect(row?.outcomes.anonymous, p.key).toBe('401');
      if (typeof p.gatewayAuth === 'object' && p.gatewayAuth.roles?.includes('admin'))
        expect([row?.outcomes.customer, row?.outcomes.otherCustomer], p.key).toEqual(['403', '403']);
      // A credential the gateway cannot verify is refused even on public routes.
      expect(row?.outcomes.service, p.key).toBe('401');
    }
  });

  it('lists exactly the service-only routes, and the assistant’s tools', () => {
    const serviceOnly = internalRoutes().filter((r) => r.source === 'contract');
    expect(INTERNAL_ROUTES.map((r) => r.name).sort()).toEqual(serviceOnly.map((r) => r.name).sort());
    for (const r of INTERNAL_ROUTES) {
      const route = serviceOnly.find((x) => x.name === r.name);
      expect(`${route?.method} ${route?.path}`).toBe(r.route);
      expect(route?.auth).toEqual({ roles: ['service'] });
    }
    expect(TOOL_MATRIX.map((t) => t.tool)).toEqual([...SHOP_TOOL_NAMES]);
  });

  it('has a request for every row (the e2e test checks each cell with it)', () => {
    expect(Object.keys(ROUTE_RECIPES).sort()).toEqual(AUTHORIZATION_MATRIX.map((r) => r.route).sort());
  });

  it('is shown in SECURITY.md exactly as rendered from this data', () => {
    const doc = readFileSync(securityMd, 'utf8');
    const shown = renderedPart(doc);
    expect(shown, 'SECURITY.md has the authorization-matrix markers').toBeDefined();
    expect(shown).toBe(renderAuthorizationMatrix());
  });

  it('would notice a drifted document (the comparison can fail)', () => {
    const doc = `${MATRIX_MARKERS.start}\n${renderAuthorizationMatrix().replace('| 403 |', '| allowed |')}\n${MATRIX_MARKERS.end}`;
    expect(renderedPart(doc)).not.toBe(renderAuthorizationMatrix());
    expect(renderedPart('no markers here')).toBeUndefined();
  });
});
