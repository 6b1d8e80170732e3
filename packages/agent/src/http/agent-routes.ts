/**
 * The assistant's HTTP API as plain Node handlers, mountable in any server (Fastify via
 * `reply.hijack()` and `req.raw`/`reply.raw`, or `node:http`). Every route authenticates
 * through the `identify` hook, validates its body with zod, and answers errors as
 * `{ error: { code, message, details } }` with the error's status.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { UnauthorizedError, ValidationError } from '@trellis/core';
import { z } from 'zod';
import type { UserIdentity } from '../identity.js';
import type { Agent } from '../loop/agent.js';
import { approvalDecisionsSchema } from '../loop/approvals.js';
import { type RunResult, resultToJson } from '../loop/run-result.js';
import { clientGone, readJsonBody, sendError, sendJson, wantsEventStream } from './http-io.js';
import { type SseOptions, writeSse } from './sse.js';

/** Options of {@link createAgentRoutes}. */
export interface AgentRoutesOptions {
  agent: Agent;
  /**
   * The authenticated end user of a request, e.g. from the identity headers the gateway
   * verified and forwarded. Return undefined (or throw `UnauthorizedError`) to answer 401.
   */
  identify: (req: IncomingMessage) => UserIdentity | undefined | Promise<UserIdentity | undefined>;
  /** Path prefix the routes live under (default `''`: `/chat`, `/runs`…). */
  basePath?: string;
  sse?: SseOptions;
}

/** Per-request extras from a framework. */
export interface HandleOptions {
  /** The body if the framework already parsed it. */
  body?: unknown;
}

/** The mounted routes. */
export interface AgentRoutes {
  /** Handles the request if it is one of the agent's routes; resolves false otherwise (send your 404). */
  handle(req: IncomingMessage, res: ServerResponse, options?: HandleOptions): Promise<boolean>;
}

const chatBody = z.object({
  message: z.string().min(1).max(20_000),
  /** Continue the conversation of this finished run. */
  runId: z.string().min(1).max(128).optional(),
  stream: z.boolean().optional(),
});
const approvalsBody = z.object({
  decisions: approvalDecisionsSchema,
  resume: z.boolean().default(true),
  stream: z.boolean().optional(),
});
const listQuery = z.object({
  status: z.enum(['running', 'awaiting_approval', 'completed', 'limit_exceeded', 'failed']).optional(),
  limit: z.coerce.number<string>().int().min(1).max(500).optional(),
  before: z.string().min(1).optional(),
});

/**
 * Creates the assistant routes:
 *
 * | method and path | does |
 * |---|---|
 * | `POST /chat` `{ message, runId?, stream? }` | runs the agent (SSE when `stream` or `Accept: text/event-stream`) |
 * | `GET /runs?status&limit&before` | the user's runs, newest first |
 * | `GET /runs/:id` | one run with its transcript |
 * | `POST /runs/:id/approvals` `{ decisions, resume?, stream? }` | decides approvals, then resumes (default) |
 *
 * @example
 * ```ts
 * const routes = createAgentRoutes({ agent, identify: (req) => gatewayIdentity(req), basePath: '/assistant' });
 * app.all('/assistant/*', (req, reply) => { reply.hijack(); void routes.handle(req.raw, reply.raw, { body: req.body }); });
 * ```
 */
export function createAgentRoutes(options: AgentRoutesOptions): AgentRoutes {
  const base = (options.basePath ?? '').replace(/\/$/, '');
  const { agent } = options;
  return {
    async handle(req, res, extra = {}) {
      const url = new URL(req.url ?? '/', 'http://local');
      if (!url.pathname.startsWith(`${base}/`)) return false;
      const path = url.pathname.slice(base.length);
      const method = req.method ?? 'GET';
      const runMatch = /^\/runs\/([^/]+)$/.exec(path);
      const approvalsMatch = /^\/runs\/([^/]+)\/approvals$/.exec(path);
      const route =
        method === 'POST' && path === '/chat'
          ? 'chat'
          : method === 'GET' && path === '/runs'
            ? 'list'
            : method === 'GET' && runMatch
              ? 'get'
              : method === 'POST' && approvalsMatch
                ? 'approve'
                : undefined;
      if (!route) return false;
      try {
        const user = await options.identify(req);
        if (!user) throw new UnauthorizedError();
        if (route === 'list') {
          const query = parse(listQuery, Object.fromEntries(url.searchParams), 'query');
          sendJson(res, 200, { runs: await agent.listRuns(user, query) });
        } else if (route === 'get') {
          sendJson(res, 200, await agent.getRun(decodeURIComponent(runMatch?.[1] ?? ''), user));
        } else if (route === 'chat') {
          const body = parse(chatBody, await readJsonBody(req, extra.body), 'body');
          const input = {
            user,
            input: body.message,
            signal: clientGone(res),
            ...(body.runId ? { continueFrom: body.runId } : {}),
          };
          if (body.stream ?? wantsEventStream(req)) {
            if (body.runId) await agent.getRun(body.runId, user);
            await writeSse(res, agent.stream(input), options.sse);
          } else sendResult(res, await agent.run(input));
        } else {
          const runId = decodeURIComponent(approvalsMatch?.[1] ?? '');
          const body = parse(approvalsBody, await readJsonBody(req, extra.body), 'body');
          if (!body.resume) {
            const record = await agent.decide({ runId, user, decisions: body.decisions });
            sendJson(res, 200, { runId, status: record.status, approvals: record.pending?.approvals ?? [] });
          } else {
            const input = { runId, user, decisions: body.decisions, signal: clientGone(res) };
            if (body.stream ?? wantsEventStream(req)) {
              await agent.getRun(runId, user); // a missing run is a 404, not an error frame in a 200 stream
              await writeSse(res, agent.resumeStream(input), options.sse);
            } else sendResult(res, await agent.resume(input));
          }
        }
      } catch (err) {
        sendError(res, err);
      }
      return true;
    },
  };
}

function parse<T extends z.ZodType>(schema: T, value: unknown, what: string): z.output<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw ValidationError.fromZod(parsed.error, what);
  return parsed.data;
}

/** A failed run answers with its error's status; every other outcome is a 200 with the result. */
function sendResult(res: ServerResponse, result: RunResult): void {
  sendJson(res, result.status === 'failed' ? result.error.status : 200, resultToJson(result));
}
