/** The bounds every run lives within. Exceeding one ends the run with a typed result. */
import { ValidationError } from '@trellis/core';
import { z } from 'zod';

/** Limits of a run. */
export interface AgentLimits {
  /** Model calls per run (default 10). */
  maxSteps: number;
  /** Tool calls per run, all steps together (default 40). */
  maxToolCalls: number;
  /** Wall-clock time per invocation (`run` or `resume`), in ms (default 120 000). */
  deadlineMs: number;
  /** Input + output tokens per run, all steps together (default 200 000). */
  tokenBudget: number;
  /** Output tokens per model call (default: the provider's). */
  maxOutputTokens?: number;
}

/** The defaults: generous for a chat assistant, tight enough to stop a runaway loop. */
export const DEFAULT_LIMITS: AgentLimits = {
  maxSteps: 10,
  maxToolCalls: 40,
  deadlineMs: 120_000,
  tokenBudget: 200_000,
};

const positiveInt = z.number().int().positive();
const limitsSchema = z.object({
  maxSteps: positiveInt.optional(),
  maxToolCalls: z.number().int().min(0).optional(),
  deadlineMs: positiveInt.optional(),
  tokenBudget: positiveInt.optional(),
  maxOutputTokens: positiveInt.optional(),
});

/**
 * Fills in defaults. Throws `ValidationError` naming the field when a limit is not a positive
 * integer (`maxToolCalls` may be 0: a run that may not call tools).
 */
export function resolveLimits(...layers: Array<Partial<AgentLimits> | undefined>): AgentLimits {
  let out: AgentLimits = { ...DEFAULT_LIMITS };
  for (const layer of layers) {
    if (!layer) continue;
    const parsed = limitsSchema.safeParse(layer);
    if (!parsed.success) throw ValidationError.fromZod(parsed.error, 'limits');
    out = { ...out, ...definedOnly(parsed.data) };
  }
  return out;
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
