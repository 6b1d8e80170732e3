/**
 * How the aggregator talks to its targets: one call with the target's own error code and
 * status passed on, a fan-out whose dead instances are reported beside the answers instead of
 * failing the whole listing, and the first answer among replicas that is not a 404.
 */
import { isNotFoundError, NotFoundError, TrellisError } from '@trellis/core';
import { OpsUpstreamError } from './errors.js';
import type { OpsTarget } from './ops-targets.js';

/** An answer of one target. */
export interface TargetReply {
  target: OpsTarget;
  body: Record<string, unknown>;
}

/**
 * Calls a target. Throws `NotFoundError` for its 404; its other 4xx answers with their own code
 * and status (a `409` "only a failed saga can be resumed" is the operator's to read, not an
 * upstream failure); `OpsUpstreamError` (502, naming the target's code and status) for a 5xx
 * or when it cannot be reached.
 */
export async function ask(
  t: OpsTarget,
  method: string,
  path: string,
  body?: unknown,
  token?: string,
): Promise<Record<string, unknown>> {
  const res = await t.request(method, path, {
    ...(body !== undefined ? { body } : {}),
    ...(token ? { token } : {}),
  });
  if (res.status >= 200 && res.status < 300) return res.body as Record<string, unknown>;
  const err = (res.body as { error?: { code?: string; message?: string } } | null)?.error;
  if (res.status === 404) throw new NotFoundError(err?.message ?? `${t.id}: not found`);
  if (res.status >= 400 && res.status < 500)
    throw new TrellisError(
      err?.code ?? 'BAD_REQUEST',
      err?.message ?? `${t.id} answered ${res.status}`,
      res.status,
      {
        details: (res.body as { error?: { details?: unknown } }).error?.details,
      },
    );
  throw new OpsUpstreamError(
    t.id,
    `${method} ${path} answered ${res.status}${err?.code ? ` ${err.code}` : ''}: ${err?.message ?? ''}`,
    { status: res.status },
  );
}

/** Asks every target at once; answers and failures side by side. */
export async function fanOut(
  targets: readonly OpsTarget[],
  method: string,
  path: string,
  body?: unknown,
): Promise<{ answers: TargetReply[]; errors: Array<{ instance: string; message: string }> }> {
  const settled = await Promise.allSettled(targets.map((t) => ask(t, method, path, body)));
  const answers: TargetReply[] = [];
  const errors: Array<{ instance: string; message: string }> = [];
  settled.forEach((r, i) => {
    const target = targets[i] as OpsTarget;
    if (r.status === 'fulfilled') answers.push({ target, body: r.value });
    else errors.push({ instance: target.id, message: (r.reason as Error).message });
  });
  return { answers, errors };
}

/** The first answer of `targets` that is not a 404, asked in turn. Throws the 404 when every one is. */
export async function firstFound(
  targets: readonly OpsTarget[],
  method: string,
  path: string,
  body?: unknown,
): Promise<TargetReply> {
  let last: unknown = new NotFoundError(`${method} ${path}: no instance to ask`);
  for (const t of targets) {
    try {
      return { target: t, body: await ask(t, method, path, body) };
    } catch (error) {
      last = error;
      if (!isNotFoundError(error)) throw error;
    }
  }
  throw last;
}
