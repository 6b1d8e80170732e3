/**
 * MCP over stdio: a local process started by an MCP client (a desktop assistant, an IDE) on
 * behalf of one user. The identity is fixed for the life of the process.
 */
import type { Readable, Writable } from 'node:stream';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { ValidationError } from '@trellis/core';
import { type UserIdentity, userIdentitySchema } from '../identity.js';
import { createMcpServer, type McpToolServerOptions } from './mcp-server.js';

/** Options of {@link serveMcpStdio}. */
export interface McpStdioOptions extends McpToolServerOptions {
  /** The user every tool call acts for. */
  user: UserIdentity;
  stdin?: Readable;
  stdout?: Writable;
}

/**
 * Serves the tools over stdin/stdout until the client closes the pipe.
 *
 * @example
 * ```ts
 * await serveMcpStdio({ tools: createShopTools(clients), user: identityFromEnv() });
 * ```
 */
export async function serveMcpStdio(options: McpStdioOptions): Promise<{ close(): Promise<void> }> {
  const server = createMcpServer(options);
  const transport = new StdioServerTransport(options.stdin, options.stdout);
  await server.connect(transport);
  return { close: () => server.close() };
}

/**
 * Reads the stdio server's user from an environment variable holding the identity as JSON
 * (`{"id":"alice","permissions":["orders:read"]}`), as the launching client configures it.
 *
 * Throws `ValidationError` naming the variable when it is missing or malformed.
 */
export function identityFromEnv(
  variable = 'TRELLIS_MCP_USER',
  env: Record<string, string | undefined> = process.env,
): UserIdentity {
  const raw = env[variable];
  let value: unknown;
  try {
    value = raw === undefined ? undefined : JSON.parse(raw);
  } catch {
    value = raw;
  }
  const parsed = userIdentitySchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const message =
      raw === undefined
        ? 'is not set'
        : `is not a user identity (${issue?.path.join('.') || 'value'}: ${issue?.message})`;
    throw new ValidationError(`Invalid environment at "${variable}": ${message}`, [
      { path: variable, message },
    ]);
  }
  return parsed.data;
}
