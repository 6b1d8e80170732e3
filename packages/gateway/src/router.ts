/**
 * Routing by path prefix and method. Prefixes match whole segments, longest first, so
 * `/api/orders` wins over `/api` and never matches `/api/ordersx`. The longest matching prefix
 * owns the path: several routes may share it with different methods (reads to one upstream,
 * writes to another), and a method none of them allows is a 405, never a fall-through to a
 * shorter prefix that the route's author did not mean to expose.
 */
import type { RouteConfig } from './config.js';

/** A route ready for the hot path. `T` is what the gateway attaches (upstream, limiter…). */
export interface CompiledRoute<T> {
  readonly index: number;
  readonly name: string;
  readonly prefix: string;
  readonly methods: ReadonlySet<string> | undefined;
  readonly config: RouteConfig;
  readonly data: T;
}

/** The outcome of a match. */
export type RouteMatch<T> =
  | { kind: 'found'; route: CompiledRoute<T> }
  | { kind: 'method'; allow: string[] }
  | { kind: 'none' };

function prefixMatches(prefix: string, path: string): boolean {
  if (!path.startsWith(prefix)) return false;
  if (path.length === prefix.length || prefix.endsWith('/')) return true;
  return path.charCodeAt(prefix.length) === 47; /* / */
}

/** An immutable routing table (a reload builds a new one). */
export class Router<T> {
  private readonly routes: CompiledRoute<T>[];
  /** One preallocated result per route: matching allocates nothing. */
  private readonly found: Array<RouteMatch<T>>;

  constructor(configs: readonly RouteConfig[], attach: (config: RouteConfig, index: number) => T) {
    this.routes = configs
      .map((config, index) => ({
        index,
        name: config.name ?? config.prefix,
        prefix: config.prefix.length > 1 ? config.prefix.replace(/\/+$/, '') || '/' : config.prefix,
        methods: config.methods ? new Set<string>(config.methods) : undefined,
        config,
        data: attach(config, index),
      }))
      .sort((a, b) => b.prefix.length - a.prefix.length || a.index - b.index);
    this.found = this.routes.map((route) => ({ kind: 'found', route }));
  }

  /** All routes, longest prefix first. */
  get all(): readonly CompiledRoute<T>[] {
    return this.routes;
  }

  match(method: string, path: string): RouteMatch<T> {
    let allow: string[] | undefined;
    const routes = this.routes;
    let owner: string | undefined;
    for (let i = 0; i < routes.length; i++) {
      const route = routes[i] as CompiledRoute<T>;
      // The longest matching prefix owns the path: a shorter one never catches its other methods.
      if (owner !== undefined && route.prefix !== owner) break;
      if (!prefixMatches(route.prefix, path)) continue;
      owner = route.prefix;
      if (!route.methods || route.methods.has(method) || (method === 'HEAD' && route.methods.has('GET'))) {
        return this.found[i] as RouteMatch<T>;
      }
      allow = [...(allow ?? []), ...route.methods];
    }
    return allow ? { kind: 'method', allow: [...new Set(allow)] } : { kind: 'none' };
  }
}

/** The path sent upstream: the prefix replaced when `rewritePrefix` is set. */
export function upstreamPath(route: { prefix: string; config: RouteConfig }, path: string): string {
  const rewrite = route.config.rewritePrefix;
  if (rewrite === undefined) return path;
  const rest = path.slice(route.prefix === '/' ? 0 : route.prefix.length);
  const joined = `${rewrite.replace(/\/+$/, '')}${rest.startsWith('/') || rest === '' ? rest : `/${rest}`}`;
  return joined === '' ? '/' : joined;
}
