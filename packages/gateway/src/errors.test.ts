import { isTrellisError } from '@trellis/core';
import { describe, expect, it } from 'vitest';
import {
  BadGatewayError,
  InvalidPathError,
  isBadGatewayError,
  isInvalidPathError,
  isMethodNotAllowedError,
  isNoHealthyUpstreamError,
  isPayloadTooLargeError,
  isRouteNotFoundError,
  isUpstreamTimeoutError,
  MethodNotAllowedError,
  NoHealthyUpstreamError,
  PayloadTooLargeError,
  RouteNotFoundError,
  UpstreamTimeoutError,
} from './errors.js';
import { checkPath } from './path.js';
import { Router, upstreamPath } from './router.js';

describe('gateway errors', () => {
  const cases = [
    [new RouteNotFoundError('/x'), isRouteNotFoundError, 'ROUTE_NOT_FOUND', 404],
    [new MethodNotAllowedError('PUT', ['GET']), isMethodNotAllowedError, 'METHOD_NOT_ALLOWED', 405],
    [new InvalidPathError(), isInvalidPathError, 'INVALID_PATH', 400],
    [new PayloadTooLargeError(10), isPayloadTooLargeError, 'PAYLOAD_TOO_LARGE', 413],
    [new NoHealthyUpstreamError('a', 1000), isNoHealthyUpstreamError, 'NO_HEALTHY_UPSTREAM', 503],
    [new UpstreamTimeoutError('a', 100), isUpstreamTimeoutError, 'UPSTREAM_TIMEOUT', 504],
    [new BadGatewayError('a', 'ECONNRESET'), isBadGatewayError, 'BAD_GATEWAY', 502],
  ] as const;
  it.each(cases)('%s has its code, status and guard', (error, guard, code, status) => {
    expect(isTrellisError(error)).toBe(true);
    expect([error.code, error.status]).toEqual([code, status]);
    expect(guard(error)).toBe(true);
    const foreign = Object.assign(new Error('x'), { code });
    Object.defineProperty(foreign, Symbol.for('trellis.error'), { value: true });
    expect(guard(foreign)).toBe(true);
    expect(guard(new Error(code))).toBe(false);
  });
});

describe('checkPath', () => {
  it('accepts ordinary paths, keeps the query verbatim, and refuses traversal forms', () => {
    expect(checkPath('/api/v1.2/file.json?a=../b')).toEqual({
      path: '/api/v1.2/file.json',
      query: '?a=../b',
    });
    expect(checkPath('/a/...')).toBeDefined();
    for (const bad of [
      '/a/../b',
      '/a/./b',
      '/a/..',
      '/%2e%2e/',
      '/a%2fb',
      '/a%5cb',
      '/a\\b',
      '/%252e',
      'x/y',
      '*',
    ]) {
      expect(checkPath(bad), bad).toBeUndefined();
    }
  });
});

describe('Router', () => {
  const route = (prefix: string, extra: Record<string, unknown> = {}) => ({
    prefix,
    upstream: 'u',
    auth: 'public' as const,
    ...extra,
  });
  it('matches whole segments, longest prefix first, and routes methods of one prefix to different upstreams', () => {
    const router = new Router(
      [
        route('/api'),
        route('/api/orders', { methods: ['GET'], name: 'read' }),
        route('/api/orders', { methods: ['POST'], name: 'write' }),
      ],
      (c) => c.name ?? c.prefix,
    );
    const name = (m: string, p: string) => {
      const r = router.match(m, p);
      return r.kind === 'found' ? r.route.data : r.kind;
    };
    expect(name('GET', '/api/orders/1')).toBe('read');
    expect(name('POST', '/api/orders')).toBe('write');
    expect(name('HEAD', '/api/orders')).toBe('read');
    expect(name('DELETE', '/api/orders/1')).toBe('method');
    expect(name('GET', '/api/ordersx')).toBe('/api');
    expect(name('GET', '/other')).toBe('none');
  });

  it('rewrites the prefix when asked', () => {
    const r = {
      prefix: '/api/catalog',
      config: { prefix: '/api/catalog', upstream: 'u', auth: 'public' as const, rewritePrefix: '/v2' },
    };
    expect(upstreamPath(r, '/api/catalog/items')).toBe('/v2/items');
    expect(upstreamPath({ ...r, config: { ...r.config, rewritePrefix: '' } }, '/api/catalog')).toBe('/');
    expect(upstreamPath({ ...r, config: { ...r.config, rewritePrefix: undefined } }, '/api/catalog/x')).toBe(
      '/api/catalog/x',
    );
  });
});
