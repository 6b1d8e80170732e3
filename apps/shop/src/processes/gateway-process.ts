/**
 * Entry point of the gateway process: the shop's routes (see `gateway-config.ts`) in front of
 * the service instances named in `SHOP_UPSTREAMS`, with JWT auth, per-client rate limits (in
 * memory, or in Redis when `REDIS_URL` is set), balancing, health checks and breakers.
 */
import { createGateway } from '@trellis/gateway';
import { OpsApi } from '@trellis/ops';
import { createLogger, loadConfigOrExit, ServiceMetrics } from '@trellis/service';
import { z } from 'zod';
import { shopGatewayConfig } from '../gateway/gateway-config.js';
import { startOpsConsole } from '../gateway/ops-console.js';
import { shopConfigSchema } from '../platform/shop-config.js';
import { announceListening } from '../supervisor/shop-process.js';
import { watchSupervisor } from './watch-supervisor.js';

const schema = shopConfigSchema
  .pick({ PORT: true, HOST: true, LOG_LEVEL: true, SHOP_UPSTREAMS: true, INTERNAL_TOKEN_SECRET: true })
  .extend({
    JWT_SECRET: z.string().min(32, 'must be at least 32 characters'),
    REDIS_URL: z.string().min(1).optional(),
    RATE_LIMIT_CAPACITY: z.coerce.number().positive().default(200),
    RATE_LIMIT_PER_SECOND: z.coerce.number().positive().default(100),
    /** Alert notifications of the ops console (Alertmanager webhook format). */
    OPS_WEBHOOK_URL: z.url().optional(),
    /** Serves the gateway's own `/metrics` (and `/upstreams`) on this port, for Prometheus. */
    GATEWAY_ADMIN_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  });
const config = loadConfigOrExit(schema);

// The ops console runs here: its breakers, spans and metrics include the gateway's own.
const gatewayOps = new OpsApi({ service: 'gateway' });
const metrics = gatewayOps.board.watch(new ServiceMetrics({ serviceName: 'gateway' }));
const logger = createLogger({ name: 'gateway', level: config.LOG_LEVEL });
const opsConsole = await startOpsConsole({
  upstreams: config.SHOP_UPSTREAMS,
  internalTokenSecret: config.INTERNAL_TOKEN_SECRET,
  logger,
  gateway: { ops: gatewayOps, metrics },
  webhookUrl: config.OPS_WEBHOOK_URL,
});

const gateway = createGateway({
  config: shopGatewayConfig({
    upstreams: { ...config.SHOP_UPSTREAMS, console: [opsConsole.url] },
    jwtSecret: config.JWT_SECRET,
    internalTokenSecret: config.INTERNAL_TOKEN_SECRET,
    rateLimit: { capacity: config.RATE_LIMIT_CAPACITY, refillPerSecond: config.RATE_LIMIT_PER_SECOND },
    redisUrl: config.REDIS_URL,
  }),
  logger,
  metrics,
  recorder: gatewayOps.recorder,
});
const url = await gateway.listen({
  port: config.PORT,
  host: config.HOST,
  ...(config.GATEWAY_ADMIN_PORT !== undefined ? { adminPort: config.GATEWAY_ADMIN_PORT } : {}),
});
announceListening(Number(new URL(url).port));
gateway.logger.info({ url, startupMs: Math.round(process.uptime() * 1000) }, 'gateway ready');

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  void Promise.all([gateway.close(), opsConsole.close()]).then(
    ([report]) => process.exit(report.timedOut ? 1 : 0),
    () => process.exit(1),
  );
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
watchSupervisor(stop);
