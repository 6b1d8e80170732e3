/**
 * The ops API contract: the endpoints every instance serves under `/ops` (and the aggregator
 * serves, merged across instances, under the same paths). One set of zod schemas for the
 * service side, the aggregator and the console. Every endpoint needs the `admin` or `ops` role.
 */
import { endpoint } from '@trellis/service';
import { z } from 'zod';

/** Roles allowed to call the ops API. */
export const OPS_ROLES = ['admin', 'ops'] as const;
/** The role of an ops aggregator's own identity (background polling, not on a user's behalf). */
export const OPS_ROLE = 'ops';

const auth = { roles: OPS_ROLES };
const tags = ['ops'];
/** Any JSON object (answers are passed through as they are). */
const Json = z.looseObject({});
const limit = (max: number, fallback: number) => z.coerce.number().int().min(1).max(max).default(fallback);

/** Saga statuses accepted by the filters. */
export const SagaStatusSchema = z.enum(['running', 'compensating', 'completed', 'compensated', 'failed']);

/** Dead-letter selection in query strings and replay/purge bodies. */
export const DeadLetterQuery = z.object({
  group: z.string().min(1).max(200).optional(),
  topic: z.string().min(1).max(200).optional(),
  reason: z.enum(['failed', 'invalid-payload', 'max-deliveries']).optional(),
  key: z.string().min(1).max(500).optional(),
  errorCode: z.string().min(1).max(100).optional(),
});

/** Body of replay and purge: explicit ids, or a filter (at least one of them). */
export const DeadLetterSelection = DeadLetterQuery.extend({
  ids: z.array(z.string().min(1).max(200)).min(1).max(1000).optional(),
}).refine((s) => Object.values(s).some((v) => v !== undefined), {
  message: 'name ids or at least one filter field (purging everything by accident is not allowed)',
});

/** Body of arming a consumer fault. */
export const FaultBody = z.object({
  mode: z.enum(['transient', 'poison']).default('poison'),
  remaining: z.number().int().min(1).max(1_000_000).optional(),
});

/** The endpoints. */
export const opsApi = {
  info: endpoint({
    method: 'GET',
    path: '/ops/info',
    auth,
    tags,
    response: Json,
    summary: 'Instance, uptime, health',
  }),
  breakers: endpoint({ method: 'GET', path: '/ops/breakers', auth, tags, response: Json }),
  sagas: endpoint({
    method: 'GET',
    path: '/ops/sagas',
    auth,
    tags,
    query: z.object({
      status: SagaStatusSchema.optional(),
      name: z.string().min(1).max(200).optional(),
      q: z.string().min(1).max(200).optional(),
      limit: limit(1000, 100),
      before: z.string().min(1).max(200).optional(),
    }),
    response: Json,
  }),
  saga: endpoint({
    method: 'GET',
    path: '/ops/sagas/:id',
    auth,
    tags,
    params: z.object({ id: z.string().min(1).max(200) }),
    response: Json,
    errors: { 404: 'No such saga' },
  }),
  resumeSaga: endpoint({
    method: 'POST',
    path: '/ops/sagas/:id/resume',
    auth,
    tags,
    params: z.object({ id: z.string().min(1).max(200) }),
    body: z.object({ note: z.string().max(500).optional() }).default({}),
    response: Json,
    errors: { 404: 'No such saga', 409: 'The saga is not failed' },
  }),
  deadLetters: endpoint({
    method: 'GET',
    path: '/ops/dead-letters',
    auth,
    tags,
    query: DeadLetterQuery.extend({
      limit: limit(1000, 100),
      offset: z.coerce.number().int().min(0).default(0),
    }),
    response: Json,
  }),
  deadLetter: endpoint({
    method: 'GET',
    path: '/ops/dead-letters/:id',
    auth,
    tags,
    params: z.object({ id: z.string().min(1).max(200) }),
    response: Json,
    errors: { 404: 'No such dead letter' },
  }),
  replayDeadLetters: endpoint({
    method: 'POST',
    path: '/ops/dead-letters/replay',
    auth,
    tags,
    body: DeadLetterSelection,
    response: Json,
  }),
  purgeDeadLetters: endpoint({
    method: 'POST',
    path: '/ops/dead-letters/purge',
    auth,
    tags,
    body: DeadLetterSelection,
    response: Json,
  }),
  events: endpoint({
    method: 'GET',
    path: '/ops/events',
    auth,
    tags,
    query: z.object({
      /** Events with a position below this (newest first); default the head. */
      before: z.coerce.number().int().min(1).optional(),
      limit: limit(500, 50),
    }),
    response: Json,
  }),
  stream: endpoint({
    method: 'GET',
    path: '/ops/streams/:id',
    auth,
    tags,
    params: z.object({ id: z.string().min(1).max(200) }),
    response: Json,
    errors: { 404: 'No such stream' },
  }),
  readModel: endpoint({
    method: 'GET',
    path: '/ops/read-models/:name/:id',
    auth,
    tags,
    params: z.object({ name: z.string().min(1).max(100), id: z.string().min(1).max(200) }),
    response: Json,
    errors: { 404: 'No such read model or row' },
  }),
  traces: endpoint({
    method: 'GET',
    path: '/ops/traces',
    auth,
    tags,
    query: z.object({
      limit: limit(500, 50),
      errorsOnly: z.enum(['true', 'false']).optional(),
      /** Only traces with a span carrying this correlation id, saga id or message id. */
      q: z.string().min(1).max(200).optional(),
    }),
    response: Json,
  }),
  trace: endpoint({
    method: 'GET',
    path: '/ops/traces/:traceId',
    auth,
    tags,
    params: z.object({ traceId: z.string().regex(/^[0-9a-f]{32}$/, '32 lower-case hex digits') }),
    response: Json,
  }),
  faults: endpoint({ method: 'GET', path: '/ops/faults', auth, tags, response: Json }),
  armFault: endpoint({
    method: 'PUT',
    path: '/ops/faults/:group',
    auth,
    tags,
    params: z.object({ group: z.string().min(1).max(200) }),
    body: FaultBody,
    response: Json,
  }),
  disarmFault: endpoint({
    method: 'DELETE',
    path: '/ops/faults/:group',
    auth,
    tags,
    params: z.object({ group: z.string().min(1).max(200) }),
    response: Json,
  }),
};
