import { parseArgs } from 'node:util';
import { ValidationError } from '@trellis/core';
import { SAGA_STATUSES, type SagaStatus } from '@trellis/saga';
import { z } from 'zod';

/** The parsed arguments of `trellis sagas`. */
export interface SagaArgs {
  action: 'list' | 'show' | 'resume' | 'counts';
  db: string;
  /** For `show` and `resume`. */
  id: string | undefined;
  status: SagaStatus | undefined;
  name: string | undefined;
  limit: number;
  before: string | undefined;
  note: string;
  json: boolean;
}

const schema = z.object({
  action: z.enum(['list', 'show', 'resume', 'counts']),
  db: z.string().min(1, 'is required (a SQLite file or a postgres:// URL)'),
  status: z.enum(SAGA_STATUSES as [SagaStatus, ...SagaStatus[]]).optional(),
  name: z.string().min(1).optional(),
  limit: z.coerce.number().int().positive().max(1000).default(50),
  before: z.string().min(1).optional(),
  note: z.string().min(1).max(500).default('trellis sagas resume'),
  json: z.boolean().default(false),
});

/**
 * Parses `args` (after `sagas`). Throws `ValidationError` naming the bad flag or argument, or a
 * plain Error for unknown flags.
 */
export function parseSagaArgs(args: string[]): SagaArgs {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      db: { type: 'string' },
      status: { type: 'string' },
      name: { type: 'string' },
      limit: { type: 'string' },
      before: { type: 'string' },
      note: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  const [action, id, ...extra] = positionals;
  const needsId = action === 'show' || action === 'resume';
  if (extra.length > 0 || (id !== undefined && !needsId)) {
    throw new ValidationError(`Unexpected argument "${extra[0] ?? id}"`, [
      { path: 'arguments', message: 'unexpected positional argument' },
    ]);
  }
  const parsed = schema.safeParse({ ...values, action, db: values.db ?? process.env.TRELLIS_DB ?? '' });
  if (!parsed.success) throw ValidationError.fromZod(parsed.error, 'arguments');
  const v = parsed.data;
  if (needsId && !id)
    throw new ValidationError(`${v.action} needs a saga id`, [{ path: 'id', message: 'missing' }]);
  return {
    action: v.action,
    db: v.db,
    id,
    status: v.status,
    name: v.name,
    limit: v.limit,
    before: v.before,
    note: v.note,
    json: v.json,
  };
}
