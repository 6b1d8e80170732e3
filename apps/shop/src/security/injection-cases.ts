/**
 * The injection test's requests: every payload at every spot of every public route (and in
 * every string argument of every assistant tool, through MCP), sent as a customer and as an
 * admin through the gateway, each answer checked for 5xx and leaked internals on the spot.
 */
import { INJECTION_PAYLOADS, type InjectionPayload, REFUSED_PAYLOADS } from './injection-payloads.js';
import {
  type BaseRequest,
  type InjectionTarget,
  injectionRequest,
  injectionTargets,
} from './injection-requests.js';
import type { InjectionWorld } from './injection-world.js';
import { loopbackAddresses, type RawRequest, type RawResponse, send } from './raw-http.js';
import { answerProblems, LEAK_PATTERNS } from './response-checks.js';
import type { PublicRoute } from './route-catalog.js';

/** Who sends a request. */
export type InjectionRole = 'customer' | 'admin';

/** One request of the test. */
export interface InjectionCase {
  route: PublicRoute;
  /** `POST /api/assistant/mcp search_products` for a tool call, else the route key. */
  label: string;
  target: InjectionTarget;
  payload: InjectionPayload;
  role: InjectionRole;
  request: RawRequest;
  /** The payload must be refused whatever the field (text no database stores). */
  mustRefuse: boolean;
}

/** A case with its answer. */
export interface InjectionOutcome {
  c: InjectionCase;
  res: RawResponse;
  problems: string[];
}

const ROLES: readonly InjectionRole[] = ['customer', 'admin'];
const MCP = 'POST /api/assistant/mcp';

/** Controls besides the base request: other ordinary outcomes a payload may lead to. */
export function extraControls(route: PublicRoute, base: BaseRequest): BaseRequest[] {
  // An unknown payment method fails the charge and the saga compensates: that path writes
  // other rows than a paid order, and a payload in `paymentMethod` takes it.
  if (route.key === 'POST /api/orders')
    return [{ ...base, body: { ...(base.body as object), paymentMethod: 'pm_injection_control' } }];
  return [];
}

/** Every case for `route`. */
export function casesFor(
  route: PublicRoute,
  world: InjectionWorld,
  payloads: readonly InjectionPayload[],
  counter: { n: number },
  /** Each spot's base request once per role, with no payload (the controls). */
  bare = false,
): InjectionCase[] {
  const spots: Array<{ label: string; target: InjectionTarget; base: (n: number) => BaseRequest }> = [];
  if (route.key === MCP) {
    for (const tool of world.tools) {
      for (const arg of tool.strings) {
        spots.push({
          label: `${MCP} ${tool.name}`,
          target: { where: 'body', field: `params.arguments.${arg}` },
          base: () => ({
            params: {},
            query: [],
            body: {
              jsonrpc: '2.0',
              id: 1,
              method: 'tools/call',
              params: { name: tool.name, arguments: tool.args },
            },
          }),
        });
      }
    }
  }
  for (const target of injectionTargets(route))
    spots.push({ label: route.key, target, base: (n) => world.base(route, n) });
  const out: InjectionCase[] = [];
  if (bare) {
    const none = { name: 'none', text: '' };
    // A route that takes no input at all is still read once, as it is.
    if (spots.length === 0)
      spots.push({
        label: route.key,
        target: { where: 'query', field: '' },
        base: (n) => world.base(route, n),
      });
    const seen = new Set<string>();
    for (const spot of spots) {
      if (seen.has(spot.label)) continue;
      seen.add(spot.label);
      for (const role of ROLES) {
        const request = injectionRequest(route, spot.base(counter.n++));
        out.push({
          route,
          label: spot.label,
          target: spot.target,
          payload: none,
          role,
          request,
          mustRefuse: false,
        });
      }
    }
    return out;
  }
  for (const spot of spots) {
    for (const payload of [...payloads, ...REFUSED_PAYLOADS]) {
      for (const role of ROLES) {
        out.push({
          route,
          label: spot.label,
          target: spot.target,
          payload,
          role,
          request: injectionRequest(route, spot.base(counter.n++), spot.target, payload.text),
          mustRefuse: REFUSED_PAYLOADS.includes(payload),
        });
      }
    }
  }
  return out;
}

const addresses = loopbackAddresses(100);
let next = 0;

/** Sends `request` as `role` through the gateway. */
export function sendAs(
  world: InjectionWorld,
  role: InjectionRole,
  request: RawRequest,
  mcp = false,
): Promise<RawResponse> {
  const n = next++;
  const token = request.path.startsWith('/api/assistant')
    ? world.assistantTokens[role][n % world.assistantTokens[role].length]
    : world.tokens[role];
  return send(world.gateway, {
    ...request,
    headers: {
      ...request.headers,
      authorization: `Bearer ${token}`,
      ...(mcp ? { accept: 'application/json, text/event-stream' } : {}),
    },
    localAddress: addresses[n % addresses.length],
    timeoutMs: 60_000,
  });
}

const STACK = /^(stack frame|source file|dependency path) in the answer/;

/**
 * A dead letter, inspected by an admin in the ops console, shows the error that killed the
 * message with its stack (`serializeError` keeps it, for the operator who must fix the
 * consumer). That is stored data about a failed message, shown on purpose to admins only;
 * anywhere else, and in any error answer, a stack is a leak.
 */
function stackAllowed(c: InjectionCase, res: RawResponse): boolean {
  return c.role === 'admin' && res.status === 200 && /^GET \/api\/ops\/dead-letters/.test(c.route.key);
}

const everyPayload = [...INJECTION_PAYLOADS, ...REFUSED_PAYLOADS].map((p) => p.text).join('\n');

/** Runs `cases` (at most `width` in flight) and checks each answer. */
export async function runCases(
  world: InjectionWorld,
  cases: readonly InjectionCase[],
  width = 6,
): Promise<InjectionOutcome[]> {
  const out: InjectionOutcome[] = [];
  let i = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (i < cases.length) {
        const c = cases[i++] as InjectionCase;
        const res = await sendAs(world, c.role, c.request, c.route.key === MCP);
        // Payloads are the caller's own text: an answer may show them (an error naming the
        // value, or a resource a concurrent request just renamed). Internals it may not.
        const sent = `${c.request.path}\n${c.request.body ?? ''}\n${everyPayload}`;
        const problems = answerProblems(res, sent, LEAK_PATTERNS, { jsonRpc: c.route.key === MCP });
        if (c.mustRefuse && res.status < 400) problems.push(`NUL payload accepted with ${res.status}`);
        if (res.status === 429) problems.push('rate limited: the payload never reached the route');
        out.push({
          c,
          res,
          problems: stackAllowed(c, res) ? problems.filter((p) => !STACK.test(p)) : problems,
        });
      }
    }),
  );
  return out;
}

/** A one-line description of an outcome, for failure messages. */
export function describeOutcome(o: InjectionOutcome): string {
  const { c, res } = o;
  return `${c.label} [${c.target.where} ${c.target.field} = ${c.payload.name}] as ${c.role}: ${res.status} ${res.text.slice(0, 160)}${o.problems.length ? ` — ${o.problems.join('; ')}` : ''}`;
}
