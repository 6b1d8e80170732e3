/**
 * A user's session with the shop's gateway, for the MCP stdio process that runs on the user's
 * machine: a bearer token given as it is, or one obtained by logging in with an email and
 * password and renewed shortly before it expires (shop tokens last an hour; a desktop MCP
 * client keeps its server running for days). Who the user is comes from the shop itself
 * (`GET /api/users/me`, answered with the identity the gateway verified), never from the token's
 * unverified claims.
 */
import type { UserIdentity } from '@trellis/agent';
import { type Clock, systemClock, UnauthorizedError, ValidationError } from '@trellis/core';
import { z } from 'zod';
import { permissionsFor } from './assistant-identity.js';

/** Environment of the MCP stdio process. */
export const mcpStdioEnvSchema = z
  .object({
    /** The shop's gateway. */
    TRELLIS_SHOP_URL: z.url({ protocol: /^https?$/ }).default('http://127.0.0.1:8080'),
    /** A JWT from `POST /api/auth/login` (expires; no renewal). */
    TRELLIS_SHOP_TOKEN: z.string().min(1).optional(),
    /** Log in with these instead (the token is then renewed as needed). */
    TRELLIS_SHOP_EMAIL: z.string().min(1).optional(),
    TRELLIS_SHOP_PASSWORD: z.string().min(1).optional(),
  })
  .refine((e) => e.TRELLIS_SHOP_TOKEN || (e.TRELLIS_SHOP_EMAIL && e.TRELLIS_SHOP_PASSWORD), {
    message: 'set TRELLIS_SHOP_TOKEN, or TRELLIS_SHOP_EMAIL and TRELLIS_SHOP_PASSWORD',
    path: ['TRELLIS_SHOP_TOKEN'],
  });
/** Environment of the MCP stdio process. */
export type McpStdioEnv = z.output<typeof mcpStdioEnvSchema>;

/**
 * Reads the stdio process's environment.
 *
 * Throws `ValidationError` naming the variable when it is malformed or credentials are missing.
 */
export function parseMcpStdioEnv(env: Record<string, string | undefined>): McpStdioEnv {
  const parsed = mcpStdioEnvSchema.safeParse(env);
  if (!parsed.success) throw ValidationError.fromZod(parsed.error, 'environment');
  return parsed.data;
}

/** Renew a logged-in token when less than this is left (ms). */
const RENEW_BEFORE_MS = 5 * 60_000;

/** A session with the gateway. */
export class GatewaySession {
  private token: string;
  private expiresAt: number;
  /** Times the token was renewed by logging in again. */
  renewals = 0;

  private constructor(
    private readonly env: McpStdioEnv,
    session: { token: string; expiresAt: number },
    private readonly clock: Clock,
  ) {
    this.token = session.token;
    this.expiresAt = session.expiresAt;
  }

  /**
   * Opens a session: uses the token, or logs in.
   *
   * Throws `UnauthorizedError` when the login is refused, `Error` when the gateway cannot be
   * reached.
   *
   * @example
   * ```ts
   * const session = await GatewaySession.open(parseMcpStdioEnv(process.env));
   * const user = await session.user();
   * ```
   */
  static async open(env: McpStdioEnv, clock: Clock = systemClock): Promise<GatewaySession> {
    const session = env.TRELLIS_SHOP_TOKEN
      ? { token: env.TRELLIS_SHOP_TOKEN, expiresAt: Number.POSITIVE_INFINITY }
      : await login(env, clock);
    return new GatewaySession(env, session, clock);
  }

  /** The `Authorization` header to send, renewing a logged-in token that is about to expire. */
  async headers(): Promise<Record<string, string>> {
    if (this.expiresAt - this.clock.now() < RENEW_BEFORE_MS) {
      const renewed = await login(this.env, this.clock);
      this.token = renewed.token;
      this.expiresAt = renewed.expiresAt;
      this.renewals++;
    }
    return { authorization: `Bearer ${this.token}` };
  }

  /**
   * The user, as the shop knows them (id, role), with the permissions of that role.
   *
   * Throws `UnauthorizedError` when the gateway refuses the token.
   */
  async user(): Promise<UserIdentity> {
    const res = await call(this.env, '/api/users/me', {
      headers: { ...(await this.headers()), accept: 'application/json' },
    });
    if (res.status === 401) throw new UnauthorizedError('The shop refused the token (expired or invalid)');
    if (!res.ok) throw new Error(`GET /api/users/me answered ${res.status}`);
    const me = (await res.json()) as { id: string; role: string; name?: string };
    return {
      id: me.id,
      permissions: permissionsFor([me.role]),
      roles: [me.role],
      ...(me.name ? { name: me.name } : {}),
    };
  }
}

function base(env: McpStdioEnv): string {
  return env.TRELLIS_SHOP_URL.replace(/\/+$/, '');
}

/** `fetch`, with an unreachable gateway reported as such (not as a bare "fetch failed"). */
async function call(env: McpStdioEnv, path: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(`${base(env)}${path}`, { ...init, signal: AbortSignal.timeout(10_000) });
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (error as Error).message;
    throw new Error(`Cannot reach the shop at ${base(env)} (${why}); is it running?`, { cause: error });
  }
}

async function login(env: McpStdioEnv, clock: Clock): Promise<{ token: string; expiresAt: number }> {
  const res = await call(env, '/api/auth/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ email: env.TRELLIS_SHOP_EMAIL, password: env.TRELLIS_SHOP_PASSWORD }),
  });
  if (res.status === 401 || res.status === 400) {
    throw new UnauthorizedError(`The shop refused the login of ${env.TRELLIS_SHOP_EMAIL}`);
  }
  if (!res.ok) throw new Error(`POST /api/auth/login answered ${res.status}`);
  const session = (await res.json()) as { token: string; expiresIn: number };
  return { token: session.token, expiresAt: clock.now() + session.expiresIn * 1000 };
}
