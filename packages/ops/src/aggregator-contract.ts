/**
 * Endpoints the aggregator adds to, or extends from, the instance contract: the overview,
 * live chart points and alerts, and an optional `service` to direct a read or an action at one
 * service's data (dead letters of `notifications`, sagas of `orders`).
 */
import { endpoint } from '@trellis/service';
import { z } from 'zod';
import { DeadLetterQuery, opsApi } from './ops-contract.js';

const auth = { roles: ['admin', 'ops'] };
const tags = ['ops'];
const Json = z.looseObject({});
const service = z.string().min(1).max(100).optional();

/** The aggregator's endpoints. */
export const aggregatorApi = {
  overview: endpoint({ method: 'GET', path: '/ops/overview', auth, tags, response: Json }),
  charts: endpoint({
    method: 'GET',
    path: '/ops/charts',
    auth,
    tags,
    query: z.object({ minutes: z.coerce.number().min(1).max(60).default(15) }),
    response: Json,
  }),
  alerts: endpoint({ method: 'GET', path: '/ops/alerts', auth, tags, response: Json }),
  sagas: { ...opsApi.sagas, query: opsApi.sagas.query.extend({ service }) },
  saga: { ...opsApi.saga, query: z.object({ service }) },
  resumeSaga: {
    ...opsApi.resumeSaga,
    body: z.object({ note: z.string().max(500).optional(), service }).default({}),
  },
  deadLetters: { ...opsApi.deadLetters, query: opsApi.deadLetters.query.extend({ service }) },
  deadLetter: { ...opsApi.deadLetter, query: z.object({ service }) },
  replayDeadLetters: { ...opsApi.replayDeadLetters, body: withSelection() },
  purgeDeadLetters: { ...opsApi.purgeDeadLetters, body: withSelection() },
  events: { ...opsApi.events, query: opsApi.events.query.extend({ service }) },
  stream: { ...opsApi.stream, query: z.object({ service }) },
  readModel: { ...opsApi.readModel, query: z.object({ service }) },
};

function withSelection() {
  return DeadLetterQuery.extend({
    ids: z.array(z.string().min(1).max(200)).min(1).max(1000).optional(),
    service,
  }).refine((s) => Object.entries(s).some(([k, v]) => k !== 'service' && v !== undefined), {
    message: 'name ids or at least one filter field (purging everything by accident is not allowed)',
  });
}
