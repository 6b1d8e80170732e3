/**
 * MCP over Streamable HTTP, **stateless**: no `Mcp-Session-Id`, a fresh server per POST bound
 * to the user that request authenticated as. Every request is authenticated again (the
 * gateway verifies the token and forwards the identity), any replica can answer, and one
 * user's identity can never leak into another's session because there are no sessions.
 * The cost: no server-to-client requests, so tools needing approval answer
 * `TOOL_APPROVAL_REQUIRED` here (use the assistant, or stdio with elicitation).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isTrellisError } from '@trellis/core';
import type { UserIdentity } from '../identity.js';
import { createMcpServer, type McpToolServerOptions } from './mcp-server.js';

/** Options of {@link createMcpHttpHandler}. */
export interface McpHttpOptions extends McpToolServerOptions {
  /**
   * The authenticated end user of a request (e.g. from the gateway's verified identity
   * headers). Return undefined, or throw `UnauthorizedError`, to answer 401.
   */
  identify: (req: IncomingMessage) => UserIdentity | undefined | Promise<UserIdentity | undefined>;
  /** Answer with one JSON body instead of an SSE stream per POST (default true). */
  jsonResponse?: boolean;
}

/** A Node handler for the MCP endpoint; pass `parsedBody` when a framework already read it. */
export type McpHttpHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  parsedBody?: unknown,
) => Promise<void>;

/**
 * Creates the handler for an MCP endpoint (mount it at e.g. `POST /mcp`).
 *
 * @example
 * ```ts
 * const mcp = createMcpHttpHandler({ tools, identify: (req) => gatewayIdentity(req) });
 * app.post('/mcp', (req, reply) => { reply.hijack(); void mcp(req.raw, reply.raw, req.body); });
 * ```
 */
export function createMcpHttpHandler(options: McpHttpOptions): McpHttpHandler {
  return async (req, res, parsedBody) => {
    if (req.method !== 'POST') {
      // Stateless: no standalone GET stream to resume, no session to DELETE.
      return rpcError(res, 405, -32000, 'Method not allowed: this MCP endpoint is stateless (POST only)', {
        allow: 'POST',
      });
    }
    let user: UserIdentity | undefined;
    try {
      user = await options.identify(req);
    } catch (err) {
      if (!isTrellisError(err) || err.status !== 401) return rpcError(res, 500, -32603, 'Internal error');
    }
    if (!user) return rpcError(res, 401, -32001, 'Authentication required', { 'www-authenticate': 'Bearer' });
    const server = createMcpServer({ ...options, user });
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: options.jsonResponse ?? true,
    });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    try {
      await server.connect(transport);
      await transport.handleRequest(req, res, parsedBody);
    } catch {
      if (!res.headersSent) rpcError(res, 500, -32603, 'Internal error');
    }
  };
}

function rpcError(
  res: ServerResponse,
  status: number,
  code: number,
  message: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }));
}
