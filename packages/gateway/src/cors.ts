/**
 * CORS for browser clients: answers preflights at the gateway (they carry no credentials, so
 * they never need authentication and never reach upstreams) and adds the allow headers to
 * actual responses for allowed origins.
 */
import type { CorsConfig } from './config.js';

/** A configured CORS policy. */
export class Cors {
  private readonly any: boolean;
  private readonly origins: Set<string>;
  private readonly methods: string;
  private readonly methodSet: Set<string>;
  private readonly allowHeaders: string;
  private readonly expose: string;

  constructor(private readonly config: CorsConfig) {
    this.any = config.origins.includes('*');
    this.origins = new Set(config.origins);
    this.methods = config.methods.join(', ');
    this.methodSet = new Set(config.methods);
    this.allowHeaders = config.allowHeaders.join(', ');
    this.expose = config.exposeHeaders.join(', ');
  }

  private allowed(origin: string): boolean {
    return this.any || this.origins.has(origin);
  }

  /** Headers for an actual request from `origin`, or undefined when the origin is not allowed. */
  actual(origin: string): Record<string, string> | undefined {
    if (!this.allowed(origin)) return undefined;
    const h: Record<string, string> = {
      'access-control-allow-origin': this.any && !this.config.credentials ? '*' : origin,
      vary: 'Origin',
    };
    if (this.config.credentials) h['access-control-allow-credentials'] = 'true';
    if (this.expose) h['access-control-expose-headers'] = this.expose;
    return h;
  }

  /** The answer to a preflight: 204 with the policy, or 403 when origin or method is not allowed. */
  preflight(origin: string, method: string | undefined): { status: number; headers: Record<string, string> } {
    if (!this.allowed(origin) || !method || !this.methodSet.has(method.toUpperCase())) {
      return { status: 403, headers: { vary: 'Origin' } };
    }
    const h: Record<string, string> = {
      'access-control-allow-origin': this.any && !this.config.credentials ? '*' : origin,
      'access-control-allow-methods': this.methods,
      'access-control-allow-headers': this.allowHeaders,
      'access-control-max-age': String(this.config.maxAgeSeconds),
      vary: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers',
    };
    if (this.config.credentials) h['access-control-allow-credentials'] = 'true';
    return { status: 204, headers: h };
  }
}
