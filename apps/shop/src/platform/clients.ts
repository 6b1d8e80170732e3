/**
 * Service-to-service clients. Each upstream instance gets its own typed client from
 * `@trellis/service` (own keep-alive pool, own circuit breaker, retries only when safe, timeouts
 * and deadlines); with several replicas, calls go round robin and move on to the next instance
 * when one refuses the connection or has its breaker open — both mean nothing was sent, so
 * moving on can never act twice.
 */
import { isCircuitBreakerOpenError } from '@trellis/resilience';
import type { ClientOptions, EndpointDefinition, Service, TypedClient } from '@trellis/service';

/** Options of {@link upstreamClient} beyond the endpoints. */
export type UpstreamClientOptions = Omit<
  ClientOptions<Record<string, EndpointDefinition>>,
  'name' | 'baseUrl' | 'endpoints'
>;

/** True when the failed call certainly never reached the upstream. */
export function notSent(error: unknown): boolean {
  if (isCircuitBreakerOpenError(error)) return true;
  const cause = (error as { cause?: { code?: string; cause?: { code?: string } } }).cause;
  return cause?.code === 'ECONNREFUSED' || cause?.cause?.code === 'ECONNREFUSED';
}

/**
 * A typed client over every instance of `name`.
 *
 * Throws `RangeError` when `urls` is empty.
 *
 * @example
 * ```ts
 * const inventory = upstreamClient(service, 'inventory', ['http://127.0.0.1:3003'], inventoryEndpoints);
 * await inventory.reserve({ body }, { idempotencyKey });
 * ```
 */
export function upstreamClient<const Eps extends Record<string, EndpointDefinition>>(
  service: Pick<Service, 'createClient'>,
  name: string,
  urls: readonly string[],
  endpoints: Eps,
  options: UpstreamClientOptions = {},
): TypedClient<Eps> {
  if (urls.length === 0) throw new RangeError(`No instances configured for upstream "${name}"`);
  const clients = urls.map((baseUrl, i) =>
    service.createClient({
      ...options,
      name: urls.length === 1 ? name : `${name}#${i}`,
      baseUrl,
      endpoints,
    }),
  );
  const [first] = clients;
  if (clients.length === 1 && first) return first;
  let next = 0;
  const balanced: Record<string, unknown> = {};
  for (const key of Object.keys(endpoints)) {
    balanced[key] = async (input?: unknown, callOptions?: unknown) => {
      const start = next++ % clients.length;
      let lastError: unknown;
      for (let i = 0; i < clients.length; i++) {
        const client = clients[(start + i) % clients.length] as unknown as Record<
          string,
          (a?: unknown, b?: unknown) => Promise<unknown>
        >;
        try {
          return await (client[key] as (a?: unknown, b?: unknown) => Promise<unknown>)(input, callOptions);
        } catch (error) {
          if (!notSent(error)) throw error;
          lastError = error;
        }
      }
      throw lastError;
    };
  }
  // The first client's typed methods are read-only properties: define, do not assign, over them.
  const out = Object.create(first as object) as Record<string, unknown>;
  for (const [key, fn] of Object.entries(balanced)) {
    Object.defineProperty(out, key, { value: fn, enumerable: true });
  }
  return out as TypedClient<Eps>;
}
