/**
 * The assistant's HTTP edge, mounted on its service's Fastify app under `/assistant` (the
 * gateway routes `/api/assistant/*` there, authenticated):
 *
 * | method and path | does |
 * |---|---|
 * | `GET /assistant` | the model in use (no secrets) and the tools this user may use |
 * | `POST /assistant/chat` | a conversation turn, as JSON or Server-Sent Events |
 * | `GET /assistant/runs`, `GET /assistant/runs/:id` | the user's runs and their transcripts |
 * | `POST /assistant/runs/:id/approvals` | approve or reject paused tool calls, then resume |
 * | `POST /assistant/mcp` | the same tools over MCP Streamable HTTP (stateless) |
 *
 * Each request runs inside the runtime's request context (identity, trace, deadline), so the
 * tools' calls carry the user's verified token and join the request's trace. Without a model
 * configured, turns that need one answer 503 `AGENT_NO_MODEL_CONFIGURED` at once, and nothing
 * is recorded; runs, approvals without resuming, and MCP keep working.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type Agent,
  createAgentRoutes,
  createMcpHttpHandler,
  type ModelConfig,
  NO_MODEL_MESSAGE,
  NoModelConfiguredError,
  type ToolRegistry,
  toPrincipal,
  type UserIdentity,
} from '@trellis/agent';
import { UnauthorizedError, ValidationError } from '@trellis/core';
import {
  type Identity,
  type RequestContext,
  runWithRequestContext,
  type Service,
  withRemoteContext,
} from '@trellis/service';
import { assistantUser } from './assistant-identity.js';

/** What the edge serves. */
export interface AssistantHttpOptions {
  agent: Agent;
  registry: ToolRegistry;
  model: ModelConfig;
  /** Name and version MCP clients are told. */
  mcpName?: string;
}

const BASE = '/assistant';

/**
 * What this module reads of a Fastify request: the parts every request has, and the state the
 * runtime's hooks keep on `request.trellis` (the identity they verified, trace, deadline).
 */
interface AssistantRequest {
  id: string;
  url: string;
  method: string;
  /** Fastify's parse: a key given more than once becomes an array. */
  query: unknown;
  body: unknown;
  raw: IncomingMessage;
  trellis: {
    correlationId: string;
    identity: Identity | undefined;
    identityToken: string | undefined;
    deadline: number | undefined;
    /** The request's server span (when tracing is on). */
    span: { spanContext(): { traceId: string; spanId: string; traceFlags: number } } | undefined;
  };
}
interface AssistantReply {
  raw: ServerResponse;
  hijack(): void;
}

/**
 * Mounts the assistant's routes on `service` (before it listens).
 *
 * @example
 * ```ts
 * mountAssistant(service, { agent, registry, model: resolveModelConfig(process.env) });
 * ```
 */
export function mountAssistant(service: Service, o: AssistantHttpOptions): void {
  const userOf = (request: unknown) => {
    const { trellis } = request as AssistantRequest;
    return assistantUser(trellis.identity, trellis.identityToken);
  };
  // The user each raw request was authenticated as, for the Node handlers' `identify`.
  const users = new WeakMap<IncomingMessage, UserIdentity>();
  const routes = createAgentRoutes({
    agent: o.agent,
    basePath: BASE,
    identify: (req) => users.get(req),
  });
  const mcp = createMcpHttpHandler({
    tools: o.registry,
    identify: (req) => users.get(req),
    // Stateless HTTP cannot ask the human: approval-gated tools answer TOOL_APPROVAL_REQUIRED.
    approvals: 'deny',
    name: o.mcpName ?? 'trellis-shop',
    version: '0.1.0',
  });
  const noModel = o.model.provider === 'none';

  service.app.get(BASE, async (request) => {
    const user = userOf(request);
    if (!user) throw new UnauthorizedError();
    const { provider, model, baseURL } = o.model;
    return {
      model: { provider, model, ...(baseURL ? { baseURL } : {}), configured: !noModel },
      tools: o.registry.specs(toPrincipal(user)),
    };
  });

  service.app.route({
    method: ['GET', 'POST', 'DELETE'],
    url: `${BASE}/*`,
    handler: async (fastifyRequest, fastifyReply) => {
      const request = fastifyRequest as unknown as AssistantRequest;
      const reply = fastifyReply as unknown as AssistantReply;
      const user = userOf(request);
      const path = request.url.split('?')[0] ?? '';
      if (user && noModel && needsModel(request.method, path, request.body)) {
        // Say so before anything is recorded: no run is started that could only fail.
        throw new NoModelConfiguredError(
          o.model.reason && o.model.reason !== NO_MODEL_MESSAGE
            ? `${NO_MODEL_MESSAGE} (${o.model.reason})`
            : NO_MODEL_MESSAGE,
        );
      }
      if (user) refuseRepeatedQuery(request.query);
      reply.hijack();
      if (user) users.set(request.raw, user);
      await inRequestContext(service, request, reply, async () => {
        if (path === `${BASE}/mcp`) return mcp(request.raw, reply.raw, request.body);
        const handled = await routes.handle(request.raw, reply.raw, { body: request.body });
        if (!handled) {
          reply.raw.writeHead(404, { 'content-type': 'application/json; charset=utf-8' });
          reply.raw.end(
            JSON.stringify({
              error: { code: 'ROUTE_NOT_FOUND', message: `No route ${request.method} ${path}` },
            }),
          );
        }
      });
    },
  });
}

/**
 * Throws `ValidationError` naming the first query key given more than once. Fastify gathers a
 * repeated key into an array, and the agent's handlers read one value of each (the last), so
 * `?limit=1&limit=500` would be taken silently where every typed route refuses it through its
 * schema: an ambiguous request is refused here the same way.
 */
function refuseRepeatedQuery(query: unknown): void {
  const repeated = Object.entries((query ?? {}) as Record<string, unknown>).find(([, v]) => Array.isArray(v));
  if (!repeated) return;
  const message = 'given more than once';
  throw new ValidationError(`Invalid query at "${repeated[0]}": ${message}`, [
    { path: repeated[0], message },
  ]);
}

/** Whether a request would call the model: a chat turn, or approvals that resume the run. */
function needsModel(method: string, path: string, body: unknown): boolean {
  if (method !== 'POST') return false;
  if (path === `${BASE}/chat`) return true;
  return (
    /^\/assistant\/runs\/[^/]+\/approvals$/.test(path) && (body as { resume?: unknown })?.resume !== false
  );
}

/**
 * Runs `fn` in the request's context and trace, as the runtime does for typed routes, so the
 * tools' typed clients forward the caller's token, correlation id and deadline.
 */
async function inRequestContext(
  service: Service,
  request: AssistantRequest,
  reply: AssistantReply,
  fn: () => Promise<void>,
): Promise<void> {
  const state = request.trellis;
  const controller = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort(new Error('client closed the request'));
  });
  const ctx: RequestContext = {
    requestId: request.id,
    correlationId: state.correlationId,
    identity: state.identity,
    identityToken: state.identityToken,
    deadline: state.deadline,
    idempotencyKey: undefined,
    signal: controller.signal,
    log: service.logger.child({ req_id: request.id }),
    setHeader: (name, value) => reply.raw.setHeader(name, value),
    setStatus: () => {},
  };
  const run = () => runWithRequestContext(ctx, fn);
  // The request's server span becomes the parent of the agent's spans (and, through the
  // tools' traceparent headers, of the services' spans).
  const span = state.span?.spanContext();
  const traceparent =
    span && `00-${span.traceId}-${span.spanId}-${span.traceFlags.toString(16).padStart(2, '0')}`;
  await (traceparent ? withRemoteContext({ traceparent }, run) : run());
}
