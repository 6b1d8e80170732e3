/**
 * Routes: an endpoint contract plus the handler that implements it. The runtime parses every
 * declared request part with its zod schema before the handler runs (a bad part is a 400
 * naming the field, and the handler never sees it) and parses the handler's result with the
 * response schema on the way out (unknown fields are stripped, so internals never leak).
 */
import type { RequestContext } from './context.js';
import type { EndpointDefinition, EndpointRequest, EndpointResult } from './endpoint.js';

/** What a handler receives: the parsed request parts and the request context. */
export type HandlerInput<E extends EndpointDefinition> = EndpointRequest<E> & { ctx: RequestContext };

/** An endpoint and its implementation. */
export interface Route<E extends EndpointDefinition = EndpointDefinition> {
  readonly endpoint: E;
  // Method syntax on purpose: it keeps routes of different endpoints assignable to Route[].
  handler(input: HandlerInput<E>): Promise<EndpointResult<E>> | EndpointResult<E>;
}

/**
 * Implements an endpoint.
 *
 * @example
 * ```ts
 * const routes = [
 *   route(getUser, async ({ params }) => {
 *     const user = await users.find(params.id);
 *     if (!user) throw new NotFoundError(`No user ${params.id}`);
 *     return user;
 *   }),
 * ];
 * ```
 */
export function route<const E extends EndpointDefinition>(
  endpoint: E,
  handler: (input: HandlerInput<E>) => Promise<EndpointResult<E>> | EndpointResult<E>,
): Route<E> {
  return { endpoint, handler };
}
