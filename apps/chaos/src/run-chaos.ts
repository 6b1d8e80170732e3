/**
 * A chaos run: starts a shop arranged for chaos, signs up customers and tops up stock, runs the
 * selected experiments one after another on that shop (each ends with the invariant checker
 * across every database, so the state a fault leaves behind is judged before the next fault
 * hits), and returns the report. The shop and its servers are removed afterwards.
 */
import { cpus } from 'node:os';
import { ValidationError } from '@trellis/core';
import { DEMO_PRODUCTS, DEMO_USERS, type ShopApi } from '@trellis/shop';
import { type ChaosShop, startChaosShop } from './chaos-shop.js';
import { ChaosEnvironmentError } from './errors.js';
import type { Experiment, ExperimentContext } from './experiment.js';
import { selectExperiments } from './experiments/catalogue.js';
import { type ChaosReport, formatExperiment, verdict } from './report.js';
import { type ExperimentResult, type RunSettings, runExperiment, skipped } from './run-experiment.js';
import { ShopAdmin } from './shop-admin.js';

/** Options of {@link runChaos}. */
export interface ChaosOptions {
  mode: 'distributed' | 'embedded';
  /** Experiment names, categories, `ci` or `all`. */
  experiments: readonly string[];
  settings: RunSettings;
  /** `required` fails when partitions cannot run; `auto` skips them (not under CI=true). */
  namespaces: 'auto' | 'required' | 'off';
  /** Replicas per service (distributed). Default `{ orders: 2 }`. */
  replicas?: Record<string, number>;
  /** Customers placing orders. Default 8. */
  customers?: number;
  /** Keep the shop's data and logs here. */
  dataDir?: string;
  /** Progress lines. */
  log?: (line: string) => void;
  /**
   * Aborting it (Ctrl-C) stops the shop and the servers the harness started, then rejects the
   * run with the signal's reason, so an interrupted run leaves no process or namespace behind.
   */
  signal?: AbortSignal;
}

/** Why `e` cannot run on `shop`, or undefined when it can. */
function unsupported(e: Experiment, shop: ChaosShop): string | undefined {
  const r = e.requires ?? {};
  if (r.distributed && shop.mode !== 'distributed') return 'needs distributed mode';
  if (r.namespaces && shop.namespacesUnavailable)
    return `needs network namespaces (${shop.namespacesUnavailable})`;
  if (r.isolated && !shop.isolation.instances.has(r.isolated)) return `${r.isolated} is not isolated`;
  if (r.process) {
    try {
      shop.process(r.process);
    } catch {
      return `no process ${r.process}`;
    }
  }
  return undefined;
}

async function signUp(api: ShopApi, count: number): Promise<ShopApi[]> {
  const run = Math.random().toString(36).slice(2, 8);
  const out: ShopApi[] = [];
  for (let i = 0; i < count; i++) {
    const { token } = await api.signup(
      `chaos-${run}-${i}@example.test`,
      `chaos-${run}-password-${i}`,
      `Chaos ${i}`,
    );
    out.push(api.as(token));
  }
  return out;
}

/**
 * Stock for the orders the run will place (3 lines × 2 units at most), so none is turned away.
 * What the bound allows (four phases × max-orders per experiment) would be absurd, so this
 * assumes the busiest pace measured here (about 40 orders/s) over a generous 90 s per
 * experiment, or the bound when that is lower.
 */
async function restock(admin: ShopAdmin, products: readonly string[], orders: number): Promise<void> {
  const need = Math.ceil((orders * 6) / products.length) + 100;
  for (const id of products) await admin.call('POST', `/api/stock/${id}/restock`, { quantity: need });
}

/**
 * Runs the experiments and returns the report.
 *
 * Throws `ValidationError` for unknown experiment names, `ChaosEnvironmentError` when a selected
 * experiment cannot run here under `CI=true` (or namespaces are `required`), or when the shop
 * cannot start.
 */
export async function runChaos(o: ChaosOptions): Promise<ChaosReport> {
  const log = o.log ?? (() => undefined);
  const { experiments, unknown } = selectExperiments(o.experiments);
  if (unknown.length > 0)
    throw new ValidationError(`Unknown experiments: ${unknown.join(', ')} (see --list)`, [
      { path: 'experiments', message: `unknown: ${unknown.join(', ')}` },
    ]);
  const started = Date.now();
  const shop = await startChaosShop({
    mode: o.mode,
    namespaces: o.namespaces,
    ...(o.replicas ? { replicas: o.replicas } : {}),
    ...(o.dataDir ? { dataDir: o.dataDir } : {}),
    log,
  });
  let onAbort: (() => void) | undefined;
  const interrupted = new Promise<never>((_, reject) => {
    onAbort = () => {
      log('interrupted: stopping the shop and its servers');
      void shop.stop().finally(() => reject(o.signal?.reason));
    };
    if (o.signal?.aborted) onAbort();
    else o.signal?.addEventListener('abort', onAbort, { once: true });
  });
  interrupted.catch(() => undefined);
  try {
    return await Promise.race([run(o, shop, log, experiments, started), interrupted]);
  } finally {
    if (onAbort) o.signal?.removeEventListener('abort', onAbort);
    await shop.stop();
  }
}

async function run(
  o: ChaosOptions,
  shop: ChaosShop,
  log: (line: string) => void,
  experiments: readonly Experiment[],
  started: number,
): Promise<ChaosReport> {
  const ci = process.env.CI === 'true' || process.env.CI === '1';
  const plan = experiments.map((e) => ({ e, why: unsupported(e, shop) }));
  const impossible = plan.filter((p) => p.why && p.e.requires?.namespaces && o.mode === 'distributed');
  if (ci && impossible.length > 0)
    throw new ChaosEnvironmentError(
      `CI=true and ${impossible.map((p) => p.e.name).join(', ')} cannot run: ${impossible[0]?.why}`,
    );
  const admin = new ShopAdmin((fresh) => shop.admin(fresh));
  const products = DEMO_PRODUCTS.filter((p) => p.stock >= 100).map((p) => p.id);
  await restock(admin, products, Math.min(4 * o.settings.maxOrders, 40 * 90) * plan.length);
  const customers = await signUp(shop.api, o.customers ?? 8);
  log(`shop ready; admin ${DEMO_USERS.admin.email}; ${customers.length} customers; data in ${shop.dataDir}`);
  const ctx: ExperimentContext = { shop, admin, log };
  const accepted: string[] = [];
  const results: ExperimentResult[] = [];
  for (const { e, why } of plan) {
    if (o.signal?.aborted) break;
    if (why) {
      log(`${e.name}: skipped (${why})`);
      results.push(skipped(e, why));
      continue;
    }
    log(`${e.name}: ${e.fault}`);
    const result = await runExperiment(e, ctx, {
      customers,
      products,
      settings: o.settings,
      acceptedOrderIds: accepted,
    });
    results.push(result);
    log(formatExperiment(result));
  }
  return {
    version: 1,
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    mode: o.mode,
    machine: {
      cpus: cpus().length,
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
    },
    settings: o.settings,
    namespaces: {
      used: shop.namespacesUnavailable === undefined,
      ...(shop.namespacesUnavailable ? { reason: shop.namespacesUnavailable } : {}),
    },
    experiments: results,
    ...verdict(results),
  };
}
