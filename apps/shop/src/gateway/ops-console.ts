/**
 * The ops console of the shop, hosted by the gateway process: the console's single-page app
 * (built on demand when missing or stale) and the ops aggregator over every service instance
 * plus the gateway itself, on a loopback port the gateway routes `/console` and `/api/ops`
 * to. Reads go to the services' own ops APIs with the operator's identity; background
 * scrapes run as an identity with the `ops` role.
 */
import { ensureConsoleBuilt } from '@trellis/console';
import {
  type AlertNotifier,
  localTarget,
  OPS_ROLE,
  OpsAggregator,
  type OpsApi,
  type OpsTarget,
  remoteTarget,
  serveStatic,
  WebhookNotifier,
} from '@trellis/ops';
import {
  createService,
  InternalTokenSigner,
  InternalTokenVerifier,
  type ServiceMetrics,
} from '@trellis/service';
import type { Logger } from 'pino';
import { runnableSlots } from '../registry.js';

/** The gateway upstream the console host is registered as (see `gateway-config.ts`). */
export const CONSOLE_UPSTREAM = 'console';

/** Options of {@link startOpsConsole}. */
export interface OpsConsoleOptions {
  /** Instance URLs per service (`SHOP_UPSTREAMS`); reserved slots are left out. */
  upstreams: Record<string, readonly string[]>;
  internalTokenSecret: string;
  logger: Logger;
  /** The gateway's own ops API and metrics (a target without a socket). */
  gateway: { ops: OpsApi; metrics: ServiceMetrics };
  /** Alert notifications go here (Alertmanager webhook format). */
  webhookUrl?: string | undefined;
  /** Scrape interval. Default 2 s. */
  intervalMs?: number;
}

/** A running console host. */
export interface OpsConsole {
  readonly url: string;
  readonly aggregator: OpsAggregator;
  close(): Promise<void>;
}

/** Builds the app if needed, starts the aggregator and listens on a free loopback port. */
export async function startOpsConsole(o: OpsConsoleOptions): Promise<OpsConsole> {
  const dist = await ensureConsoleBuilt();
  // The console's own page loads and polls are not traces anyone wants to look at.
  o.gateway.ops.hideSpans((span) => span.attributes['trellis.upstream'] === CONSOLE_UPSTREAM);
  const runnable = new Set(runnableSlots().map((s) => s.name as string));
  const targets: OpsTarget[] = [localTarget({ ops: o.gateway.ops, metrics: () => o.gateway.metrics.text() })];
  for (const [service, urls] of Object.entries(o.upstreams)) {
    if (!runnable.has(service)) continue;
    urls.forEach((url, i) => {
      targets.push(remoteTarget({ id: i === 0 ? service : `${service}#${i}`, service, url }));
    });
  }
  const signer = new InternalTokenSigner({ key: o.internalTokenSecret, ttlSeconds: 300 });
  const notifiers: AlertNotifier[] = o.webhookUrl ? [new WebhookNotifier({ url: o.webhookUrl })] : [];
  const aggregator = new OpsAggregator({
    targets,
    identity: () => signer.sign({ subject: 'ops-console', kind: 'service', scopes: [], roles: [OPS_ROLE] }),
    intervalMs: o.intervalMs ?? 2000,
    notifiers,
    logger: o.logger,
  });
  const service = createService({
    name: 'console',
    version: '0.1.0',
    routes: aggregator.routes(),
    logger: o.logger,
    accessLog: 'debug',
    metrics: false,
    tracing: false,
    idempotency: false,
    internalAuth: { mode: 'required', verifier: new InternalTokenVerifier({ key: o.internalTokenSecret }) },
  });
  serveStatic(service.app, { dir: dist, prefix: '/console' });
  const url = await service.listen({ port: 0, host: '127.0.0.1', signals: false });
  aggregator.start();
  return {
    url,
    aggregator,
    async close() {
      await aggregator.stop();
      await service.shutdown('gateway stopping');
    },
  };
}
