/**
 * How a careful client reads the answer to `POST /api/orders`: accepted (with the order's
 * status), refused for good (a 4xx about the request itself), or "ask again with the same key"
 * (no answer, a 5xx, a rate limit, the key still in progress). Kept apart from the load loop so
 * the rules are plain and tested.
 */
/** How an order ended, from the customer's side. */
export type OrderOutcome = 'completed' | 'compensated' | 'failed' | 'rejected';

/** Order statuses after which nothing changes any more. */
export const TERMINAL_STATUSES: ReadonlySet<string> = new Set(['shipped', 'cancelled']);

/** What to do with one answer. */
export type Verdict =
  | { kind: 'accepted'; orderId: string; status: string; outcome: OrderOutcome; reason: string }
  | { kind: 'rejected'; reason: string }
  | { kind: 'retry'; reason: string; retryAfterMs?: number };

/** An answer of the shop's API (the shape `ShopApi.request` resolves to). */
export interface OrderAnswer {
  status: number;
  body: { id?: string; status?: string; error?: { code?: string } } | string | undefined;
  headers: Headers;
}

function retryAfter(res: OrderAnswer): number | undefined {
  const seconds = Number(res.headers.get('retry-after'));
  return Number.isFinite(seconds) && seconds > 0 ? Math.min(5000, seconds * 1000) : undefined;
}

/** Classifies an answer (or the error a request failed with). */
export function classifyAnswer(answer: OrderAnswer | Error): Verdict {
  if (answer instanceof Error) {
    const code = (answer.cause as { code?: string } | undefined)?.code ?? answer.name;
    return { kind: 'retry', reason: code };
  }
  const body = typeof answer.body === 'object' ? answer.body : undefined;
  const code = body?.error?.code ?? `HTTP_${answer.status}`;
  if ((answer.status === 201 || answer.status === 202) && typeof body?.id === 'string') {
    const status = String(body.status ?? 'submitted');
    const outcome: OrderOutcome =
      status === 'shipped' ? 'completed' : status === 'cancelled' ? 'compensated' : 'failed';
    return { kind: 'accepted', orderId: body.id, status, outcome, reason: status };
  }
  if (answer.status === 429 || (answer.status === 409 && code === 'IDEMPOTENCY_KEY_IN_PROGRESS')) {
    const wait = retryAfter(answer);
    return { kind: 'retry', reason: code, ...(wait !== undefined ? { retryAfterMs: wait } : {}) };
  }
  if (answer.status >= 500) return { kind: 'retry', reason: code };
  return { kind: 'rejected', reason: code };
}
