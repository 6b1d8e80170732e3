import { parseArgs } from 'node:util';
import { ValidationError } from '@trellis/core';
import type { DeadLetterFilter } from '@trellis/messaging';
import { z } from 'zod';

/** The parsed arguments of `trellis dead-letters`. */
export interface DeadLetterArgs {
  action: 'list' | 'show' | 'count' | 'replay' | 'purge';
  db: string;
  filter: DeadLetterFilter;
  /** True when any filter flag was given (replay and purge need one, or --all). */
  filtered: boolean;
  all: boolean;
  dryRun: boolean;
  json: boolean;
  limit: number;
  offset: number;
  /** For `show`: the dead letter id. */
  id: string | undefined;
}

const time = z.string().transform((text, ctx) => {
  const value = parseTime(text, Date.now());
  if (value === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: 'expected an ISO date, epoch milliseconds or a duration like 30m, 2h, 7d',
    });
    return z.NEVER;
  }
  return value;
});

const schema = z.object({
  action: z.enum(['list', 'show', 'count', 'replay', 'purge']),
  db: z.string().min(1, 'is required (a SQLite file or a postgres:// URL)'),
  id: z.array(z.string().min(1)).optional(),
  group: z.string().min(1).optional(),
  topic: z.string().min(1).optional(),
  key: z.string().min(1).optional(),
  reason: z.enum(['failed', 'invalid-payload', 'max-deliveries']).optional(),
  'error-code': z.string().min(1).optional(),
  since: time.optional(),
  until: time.optional(),
  limit: z.coerce.number().int().positive().max(100_000).default(100),
  offset: z.coerce.number().int().nonnegative().default(0),
  json: z.boolean().default(false),
  all: z.boolean().default(false),
  'dry-run': z.boolean().default(false),
});

/**
 * Parses `args` (after `dead-letters`). Throws `ValidationError` naming the bad flag, or a
 * plain Error for unknown flags.
 */
export function parseDeadLetterArgs(args: string[]): DeadLetterArgs {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      db: { type: 'string' },
      id: { type: 'string', multiple: true },
      group: { type: 'string' },
      topic: { type: 'string' },
      key: { type: 'string' },
      reason: { type: 'string' },
      'error-code': { type: 'string' },
      since: { type: 'string' },
      until: { type: 'string' },
      limit: { type: 'string' },
      offset: { type: 'string' },
      json: { type: 'boolean' },
      all: { type: 'boolean' },
      'dry-run': { type: 'boolean' },
    },
  });
  const [action, showId, ...extra] = positionals;
  if (extra.length > 0 || (showId !== undefined && action !== 'show')) {
    throw new ValidationError(`Unexpected argument "${extra[0] ?? showId}"`, [
      { path: 'arguments', message: 'unexpected positional argument' },
    ]);
  }
  const parsed = schema.safeParse({ ...values, action, db: values.db ?? process.env.TRELLIS_DB ?? '' });
  if (!parsed.success) throw ValidationError.fromZod(parsed.error, 'arguments');
  const v = parsed.data;
  const filter: DeadLetterFilter = {};
  if (v.id) filter.ids = v.id;
  if (v.group) filter.group = v.group;
  if (v.topic) filter.topic = v.topic;
  if (v.key) filter.key = v.key;
  if (v.reason) filter.reason = v.reason;
  if (v['error-code']) filter.errorCode = v['error-code'];
  if (v.since !== undefined) filter.since = v.since;
  if (v.until !== undefined) filter.until = v.until;
  if (v.action === 'show' && !showId) {
    throw new ValidationError('show needs a dead letter id', [{ path: 'id', message: 'missing' }]);
  }
  return {
    action: v.action,
    db: v.db,
    filter,
    filtered: Object.keys(filter).length > 0,
    all: v.all,
    dryRun: v['dry-run'],
    json: v.json,
    limit: v.limit,
    offset: v.offset,
    id: showId,
  };
}

/** An ISO date, epoch ms, or `<n><s|m|h|d>` meaning that long before `now`. */
export function parseTime(text: string, now: number): number | undefined {
  const rel = /^(\d+)(s|m|h|d)$/.exec(text);
  if (rel) {
    const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[rel[2] as 's' | 'm' | 'h' | 'd'];
    return now - Number(rel[1]) * unit;
  }
  if (/^\d+$/.test(text)) return Number(text);
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : date;
}
