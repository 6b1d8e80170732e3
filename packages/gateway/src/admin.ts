/**
 * The admin listener: Prometheus metrics, upstream status and health on a separate port, so
 * topology and metrics are never exposed on the public one.
 */
import type { ServiceMetrics } from '@trellis/service';
import Fastify, { type FastifyInstance } from 'fastify';

/** What the admin endpoints read. */
export interface AdminSource {
  metrics: ServiceMetrics;
  upstreams(): unknown;
  draining(): boolean;
}

/** Builds the admin app (`/metrics`, `/upstreams`, `/health/live`, `/health/ready`). */
export function createAdminApp(source: AdminSource): FastifyInstance {
  const admin = Fastify();
  admin.get('/metrics', async (_request, reply) => {
    reply.type(source.metrics.contentType);
    return source.metrics.text();
  });
  admin.get('/upstreams', async () => source.upstreams());
  admin.get('/health/live', async () => ({ status: 'live' }));
  admin.get('/health/ready', async (_request, reply) =>
    source.draining() ? reply.code(503).send({ status: 'draining' }) : { status: 'ready' },
  );
  return admin;
}
