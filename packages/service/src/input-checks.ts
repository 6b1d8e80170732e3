/**
 * Checks every request's parsed params, query and body before any schema or handler sees
 * them: text must be well-formed (no NUL character, no lone UTF-16 surrogate) and nesting must
 * stay within a depth. A zod `z.string()` accepts both kinds of text, yet PostgreSQL refuses
 * NUL in `text` and `jsonb` (a 500 after the request was accepted) and SQLite and the UTF-8
 * encoders silently turn a lone surrogate into replacement characters (data changed on the
 * way in); a body nested thousands of levels deep overflows the stack of any recursive walker
 * (canonical JSON for idempotency fingerprints, serializers). Refusing them here keeps the
 * promise "bad input gets a 400 naming the field, and nothing is written" for every route,
 * including those that do not use zod contracts.
 */
import { ValidationError } from '@trellis/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';

/** Options of the input checks. */
export interface InputCheckOptions {
  /** Deepest nesting of arrays and objects accepted in a body (the root is depth 1). Default 32. */
  maxDepth?: number;
}

/** What is wrong with a value, and where. */
export interface InputProblem {
  /** Dotted path inside the part (`shippingAddress.name`, `items.0`), `''` for the whole part. */
  path: string;
  reason: 'nul' | 'lone-surrogate' | 'too-deep';
  message: string;
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** The problem with one string, if any. */
export function textProblem(s: string): InputProblem['reason'] | undefined {
  if (s.includes('\u0000')) return 'nul';
  if (LONE_SURROGATE.test(s)) return 'lone-surrogate';
  return undefined;
}

const MESSAGES: Record<InputProblem['reason'], string> = {
  nul: 'contains a NUL character',
  'lone-surrogate': 'is not well-formed Unicode (lone surrogate)',
  'too-deep': 'is nested too deeply',
};

/**
 * The first problem in `value` (strings and object keys checked, depth bounded), or undefined.
 * Iterative, so the depth of the input cannot exhaust the stack of the check itself.
 */
export function findInputProblem(value: unknown, maxDepth = 32): InputProblem | undefined {
  const stack: Array<{ value: unknown; path: string[]; depth: number }> = [{ value, path: [], depth: 0 }];
  const problem = (path: string[], reason: InputProblem['reason']): InputProblem => ({
    path: path.join('.'),
    reason,
    message: MESSAGES[reason],
  });
  while (stack.length > 0) {
    const item = stack.pop() as { value: unknown; path: string[]; depth: number };
    const v = item.value;
    if (typeof v === 'string') {
      const reason = textProblem(v);
      if (reason) return problem(item.path, reason);
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    const depth = item.depth + 1;
    if (depth > maxDepth) return problem(item.path, 'too-deep');
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--)
        stack.push({ value: v[i], path: [...item.path, String(i)], depth });
      continue;
    }
    const entries = Object.entries(v as Record<string, unknown>);
    for (let i = entries.length - 1; i >= 0; i--) {
      const [key, child] = entries[i] as [string, unknown];
      const reason = textProblem(key);
      if (reason) return problem([...item.path, key], reason);
      stack.push({ value: child, path: [...item.path, key], depth });
    }
  }
  return undefined;
}

/** Throws `ValidationError` (400, the field named) when a request part fails the checks. */
export function checkRequestInput(request: FastifyRequest, maxDepth: number): void {
  const parts: Array<[string, unknown]> = [
    ['params', request.params],
    ['query', request.query],
    ['body', request.body],
  ];
  for (const [what, value] of parts) {
    const p = findInputProblem(value, maxDepth);
    if (!p) continue;
    const where = p.path ? ` at "${p.path}"` : '';
    throw new ValidationError(`Invalid ${what}${where}: ${p.message}`, [
      { path: p.path, message: p.message },
    ]);
  }
}

/** Installs the checks on every route of `app` (after body parsing, before idempotency and handlers). */
export function installInputChecks(app: FastifyInstance, options: InputCheckOptions = {}): void {
  const maxDepth = options.maxDepth ?? 32;
  app.addHook('preValidation', async (request) => checkRequestInput(request, maxDepth));
}
