/**
 * The shop's MCP server over stdio, for a desktop or IDE MCP client on a user's machine:
 * `npm run --silent mcp` (or `node --conditions=source --import tsx <this file>`). It connects to
 * a running shop through its gateway as one user, with that user's own token, and offers the
 * assistant's tools; the gateway and the services authorize every call as they would the
 * user's own requests. Approval-gated tools (`cancel_order`) ask the human through the client
 * (MCP elicitation) and are refused when the client cannot ask.
 *
 * | variable | meaning |
 * |---|---|
 * | `TRELLIS_SHOP_URL` | the gateway, default `http://127.0.0.1:8080` |
 * | `TRELLIS_SHOP_TOKEN` | a JWT from `POST /api/auth/login` (valid one hour), or: |
 * | `TRELLIS_SHOP_EMAIL`, `TRELLIS_SHOP_PASSWORD` | log in, and renew the token before it expires |
 *
 * stdout carries the protocol only; diagnostics go to stderr. A bad environment exits with
 * code 78, a refused login with 77.
 */
import { serveMcpStdio } from '@trellis/agent';
import { isUnauthorizedError, isValidationError } from '@trellis/core';
import { GatewaySession, parseMcpStdioEnv } from './gateway-session.js';
import { closeClients, gatewayClients } from './shop-clients.js';
import { createShopTools } from './shop-tools.js';

const say = (line: string) => process.stderr.write(`trellis-shop mcp: ${line}\n`);

try {
  const env = parseMcpStdioEnv(process.env);
  const session = await GatewaySession.open(env);
  const user = await session.user();
  const clients = gatewayClients(env.TRELLIS_SHOP_URL);
  const server = await serveMcpStdio({
    tools: createShopTools(clients, { credentials: () => session.headers() }),
    user,
    name: 'trellis-shop',
    version: '0.1.0',
    approvals: 'elicit',
  });
  say(`serving ${user.id} (${user.roles?.join(', ') || 'no role'}) through ${env.TRELLIS_SHOP_URL}`);
  let closing = false;
  const close = () => {
    if (closing) return;
    closing = true;
    void Promise.allSettled([server.close(), closeClients(clients)]).then(() => process.exit(0));
  };
  // The client ends the session by closing our stdin (or by a signal).
  process.stdin.once('end', close);
  process.stdin.once('close', close);
  process.once('SIGTERM', close);
  process.once('SIGINT', close);
} catch (error) {
  say(error instanceof Error ? error.message : String(error));
  process.exit(isValidationError(error) ? 78 : isUnauthorizedError(error) ? 77 : 1);
}
