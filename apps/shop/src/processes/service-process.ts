/**
 * Entry point of one service process: `node … service-process.ts <service>`. Reads the shop
 * configuration from the environment (a bad one exits with code 78 and one line per
 * problem), builds the service from the registry and listens. SIGTERM/SIGINT shut it down
 * gracefully; the supervisor restarts it if it dies any other way.
 */
import { loadConfigOrExit } from '@trellis/service';
import { shopConfigSchema } from '../platform/shop-config.js';
import { createShopContext } from '../platform/shop-service.js';
import { type ServiceName, slotOf } from '../registry.js';
import { announceListening } from '../supervisor/shop-process.js';
import { watchSupervisor } from './watch-supervisor.js';

const name = process.argv[2] ?? process.env.SHOP_SERVICE;
if (!name) {
  process.stderr.write('usage: service-process.ts <service>\n');
  process.exit(64);
}
const slot = slotOf(name);
if (!slot.module) {
  process.stderr.write(`service "${name}" is reserved but not implemented yet\n`);
  process.exit(64);
}
const config = loadConfigOrExit(shopConfigSchema);
const ctx = await createShopContext(slot.name as ServiceName, config);
try {
  const { build } = (await import(`../services/${slot.module}`)) as {
    build: (c: typeof ctx) => Promise<import('@trellis/service').Service>;
  };
  const service = await build(ctx);
  const url = await service.listen({ port: config.PORT, host: config.HOST });
  announceListening(Number(new URL(url).port));
  ctx.logger.info({ url, startupMs: Math.round(process.uptime() * 1000) }, `${name} ready`);
  watchSupervisor(() => {
    ctx.logger.warn('supervisor gone: shutting down');
    void service.shutdown('supervisor gone').finally(() => process.exit(0));
  });
} catch (error) {
  ctx.logger.fatal({ err: error }, `${name} failed to start`);
  await ctx.close().catch(() => undefined);
  process.exit(1);
}
