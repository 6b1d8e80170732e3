/**
 * Turns a {@link Route} into a Fastify handler: authorise, parse every declared request part,
 * run the handler inside its request context and trace span, parse the result on the way out.
 */
import { context } from '@opentelemetry/api';
import { type Clock, ForbiddenError, UnauthorizedError, ValidationError } from '@trellis/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { Identity, RequestContext } from './context.js';
import { runWithRequestContext } from './context.js';
import { type EndpointAuth, type EndpointDefinition, successStatusOf } from './endpoint.js';
import { ResponseValidationError } from './errors.js';
import type { Route } from './route.js';

function parsePart(schema: z.ZodType | undefined, value: unknown, what: string): unknown {
  if (!schema) return undefined;
  const r = schema.safeParse(value);
  if (!r.success) throw ValidationError.fromZod(r.error, what);
  return r.data;
}

/** Throws 401/403 unless `identity` satisfies `auth`. */
export function authorize(
  auth: EndpointAuth | undefined,
  identity: Identity | undefined,
  enforced: boolean,
): void {
  if (!enforced || auth === undefined || auth === 'public') return;
  if (!identity || identity.kind === 'anonymous') throw new UnauthorizedError();
  if (auth === 'authenticated') return;
  const missing = (auth.scopes ?? []).filter((s) => !identity.scopes.includes(s));
  if (missing.length) throw new ForbiddenError('Missing scope', { details: { missingScopes: missing } });
  if (auth.roles?.length && !auth.roles.some((r) => identity.roles.includes(r))) {
    throw new ForbiddenError('Missing role', { details: { requiredRoles: [...auth.roles] } });
  }
}

/** Options of {@link handlerFor}. */
export interface HandlerOptions {
  clock: Clock;
  logger: Logger;
  /** True when internal auth is on, so endpoint `auth` is enforced. */
  enforceAuth: boolean;
  /** Parse results with the response schema (strips unknown fields). Default true. */
  validateResponses: boolean;
}

/** The Fastify handler of a route. */
export function handlerFor(route: Route, o: HandlerOptions) {
  const e: EndpointDefinition = route.endpoint;
  const success = successStatusOf(e);
  return async (request: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    const state = request.trellis;
    authorize(e.auth, state.identity, o.enforceAuth);
    const params = parsePart(e.params, request.params, 'params');
    const query = parsePart(e.query, request.query, 'query');
    const headers = parsePart(e.headers, request.headers, 'headers');
    const body = parsePart(e.body, request.body, 'body');
    let status = success;
    let controller: AbortController | undefined;
    let timer: ReturnType<Clock['setTimeout']> | undefined;
    const log = o.logger.child({ req_id: request.id });
    const ctx: RequestContext = {
      requestId: request.id,
      correlationId: state.correlationId,
      identity: state.identity,
      identityToken: state.identityToken,
      deadline: state.deadline,
      idempotencyKey: state.idempotencyKey,
      log,
      // Created on first use: most handlers never look at it.
      get signal() {
        if (!controller) {
          const c = new AbortController();
          controller = c;
          request.raw.once('close', () => {
            if (!reply.raw.writableFinished) c.abort(new Error('client closed the request'));
          });
          if (state.deadline !== undefined) {
            timer = o.clock.setTimeout(
              () => c.abort(new Error('deadline passed')),
              state.deadline - o.clock.now(),
            );
          }
        }
        return controller.signal;
      },
      setHeader: (name, value) => void reply.header(name, value),
      setStatus: (s) => {
        status = s;
      },
    };
    const run = () =>
      runWithRequestContext(ctx, () => route.handler({ params, query, headers, body, ctx } as never));
    let result: unknown;
    try {
      result = await (state.traceContext ? context.with(state.traceContext, run) : run());
    } finally {
      if (timer !== undefined) o.clock.clearTimeout(timer);
    }
    reply.code(status);
    if (!e.response) return reply.send();
    reply.type('application/json; charset=utf-8');
    if (!o.validateResponses) return reply.send(JSON.stringify(result));
    const parsed = e.response.safeParse(result);
    if (!parsed.success) {
      throw new ResponseValidationError(`Response of ${e.method} ${e.path} does not match its schema`, {
        cause: parsed.error,
      });
    }
    return reply.send(JSON.stringify(parsed.data));
  };
}
