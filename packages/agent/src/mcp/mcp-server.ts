/**
 * An MCP server over a tool registry, bound to one end user. `tools/list` offers exactly the
 * tools that user may use; `tools/call` runs through the same executor as the agent loop
 * (permissions, argument validation, timeouts, breakers, tracing), so an MCP client can never
 * do more than the user could through the assistant.
 */

import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  type CallToolResult,
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
} from '@modelcontextprotocol/sdk/types.js';
import type { Tracer } from '@opentelemetry/api';
import type { Clock } from '@trellis/core';
import { Bulkhead } from '@trellis/resilience';
import { type Principal, toPrincipal, type UserIdentity } from '../identity.js';
import type { ToolResult } from '../messages.js';
import { ToolExecutor } from '../tools/executor.js';
import { ToolRegistry } from '../tools/registry.js';
import type { ToolInput } from '../tools/tool.js';
import { errorResult, ToolErrorCode } from '../tools/tool-results.js';
import { activeContext } from '../tracing.js';

/** How tools that need approval behave over MCP. */
export type McpApprovalMode = 'elicit' | 'deny';

/** Options shared by the MCP transports. */
export interface McpToolServerOptions {
  tools: ToolRegistry | readonly ToolInput[];
  /** Server name and version announced to clients. */
  name?: string;
  version?: string;
  /**
   * `elicit` (default): ask the human through the client (MCP elicitation) when the client
   * supports it, else refuse with `TOOL_APPROVAL_REQUIRED`. `deny`: always refuse.
   */
  approvals?: McpApprovalMode;
  /** Tool calls of one connection executing at once (default 4). */
  maxConcurrentCalls?: number;
  toolTimeoutMs?: number;
  maxResultChars?: number;
  exposeToolErrors?: boolean;
  clock?: Clock;
  tracer?: Tracer;
}

/**
 * Builds a low-level MCP `Server` exposing `tools` for `user`. Connect it to a transport
 * (`StdioServerTransport`, `StreamableHTTPServerTransport`), or use {@link serveMcpStdio} /
 * {@link createMcpHttpHandler}.
 *
 * The server advertises the registry's own JSON Schemas (generated once from zod and checked
 * by `checkToolSchemas`), instead of re-deriving them through the SDK, which is where zod 4
 * schemas came out with empty `properties` (typescript-sdk #1158).
 */
export function createMcpServer(options: McpToolServerOptions & { user: UserIdentity | Principal }): Server {
  const user = toPrincipal(options.user);
  const registry = options.tools instanceof ToolRegistry ? options.tools : new ToolRegistry(options.tools);
  const executor = new ToolExecutor({
    registry,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.tracer ? { tracer: options.tracer } : {}),
    ...(options.toolTimeoutMs ? { defaultTimeoutMs: options.toolTimeoutMs } : {}),
    ...(options.maxResultChars ? { maxResultChars: options.maxResultChars } : {}),
    exposeToolErrors: options.exposeToolErrors ?? false,
  });
  const limiter = new Bulkhead({
    maxConcurrent: options.maxConcurrentCalls ?? 4,
    maxQueue: Number.POSITIVE_INFINITY,
  });
  const server = new Server(
    { name: options.name ?? 'trellis-tools', version: options.version ?? '0.1.0' },
    { capabilities: { tools: {} } },
  );
  let seq = 0;

  server.setRequestHandler(ListToolsRequestSchema, async () => ({
    tools: registry
      .specs(user)
      .map((t) => ({ name: t.name, description: t.description, inputSchema: t.inputSchema })),
  }));

  server.setRequestHandler(CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => {
    const { name } = request.params;
    if (!registry.get(name)) throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${name}`);
    const call = {
      id: `mcp-${String(extra.requestId)}-${++seq}`,
      name,
      arguments: request.params.arguments ?? {},
    };
    const scope = {
      user,
      runId: `mcp:${extra.sessionId ?? 'stateless'}`,
      signal: extra.signal,
      parent: activeContext(),
      limiter,
    };
    let prepared = await executor.prepare(call, user);
    if (prepared.kind === 'approval') {
      const approved = await askForApproval(server, options.approvals ?? 'elicit', prepared.description);
      if (approved !== true) return toMcp(approved);
      prepared = await executor.prepare(call, user, true);
    }
    if (prepared.kind === 'result') return toMcp(prepared.result);
    if (prepared.kind !== 'run') throw new McpError(ErrorCode.InternalError, 'unexpected approval state');
    return toMcp(await executor.execute(prepared, scope));

    function toMcp(result: ToolResult | { code: string; message: string }): CallToolResult {
      const r = 'content' in result ? result : errorResult(call, result.code, result.message);
      return { content: [{ type: 'text', text: r.content }], isError: r.isError };
    }
  });
  return server;
}

/**
 * Asks the human, through the client, to approve an action. Resolves true when approved,
 * otherwise with the refusal to return.
 */
async function askForApproval(
  server: Server,
  mode: McpApprovalMode,
  description: string,
): Promise<true | { code: string; message: string }> {
  const canElicit = server.getClientCapabilities()?.elicitation !== undefined;
  if (mode === 'deny' || !canElicit) {
    return {
      code: ToolErrorCode.approvalRequired,
      message: `"${description}" needs a human's approval, which this client cannot ask for. Use the assistant to do it.`,
    };
  }
  const answer = await server.elicitInput({
    mode: 'form',
    message: `Approve this action? ${description}`,
    requestedSchema: {
      type: 'object',
      properties: { approve: { type: 'boolean', title: 'Approve', description } },
      required: ['approve'],
    },
  });
  if (answer.action === 'accept' && answer.content?.approve === true) return true;
  return { code: ToolErrorCode.rejected, message: `The user did not approve "${description}".` };
}
