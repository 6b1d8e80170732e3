/**
 * One experiment, the Chaos Engineering way: load starts and the steady-state hypothesis is
 * checked (enough orders settle, few fail); the fault is injected under that load and held;
 * it is removed; the harness waits until the system has recovered (a streak of orders placed
 * after the fault all got a definite answer) and checks the hypothesis again; then the load
 * stops, dead letters are accounted for (listed, and bus ones replayed through the ops API as
 * an operator would), and the invariant checker reads every database.
 */
import { checkInvariants, type Violation } from '@trellis/shop';
import {
  type Check,
  type Experiment,
  type ExperimentContext,
  type FaultTimes,
  waitFor,
} from './experiment.js';
import { LoadDriver } from './load-driver.js';
import {
  checkHypothesis,
  countOutcomes,
  type Hypothesis,
  type OutcomeCounts,
  recoveredAt,
  type SteadyState,
  type WindowStats,
  windowStats,
} from './window-stats.js';

/** How experiments are run. */
export interface RunSettings {
  steady: SteadyState;
  /** Each steady-state window (ms). */
  steadyMs: number;
  /** Multiplies every experiment's hold. */
  holdScale: number;
  /** Longest wait for recovery after a fault (ms). */
  recoveryTimeoutMs: number;
  /** Every saga must be terminal within this long after recovery (ms); the checker waits this long. */
  settleMs: number;
  concurrency: number;
  /** Orders per phase of an experiment at most (before, fault, recovery, after). */
  maxOrders: number;
}

/** Everything an experiment found. */
export interface ExperimentResult {
  name: string;
  category: string;
  fault: string;
  hypothesis: string;
  status: 'passed' | 'failed' | 'aborted' | 'skipped';
  /** Why it was skipped or could not run. */
  reason?: string;
  /** What exactly was done (pid, address). */
  detail?: string;
  orders: OutcomeCounts & { attempted: number; retried: number };
  before?: Hypothesis;
  during?: WindowStats;
  after?: Hypothesis;
  times?: FaultTimes;
  /** From the injection (kills) or the removal of the fault until recovered (ms). */
  recoveryMs?: number;
  checks: Check[];
  deadLetters: { found: number; replayed: number; groups: Record<string, number> };
  invariants?: { ok: boolean; violations: Violation[]; waitedMs: number; orders: number };
  durationMs: number;
}

/** What the run gives every experiment. */
export interface ExperimentDeps {
  customers: ConstructorParameters<typeof LoadDriver>[0]['customers'];
  products: readonly string[];
  settings: RunSettings;
  /** Every order accepted so far in the run (the checker proves none was lost); extended here. */
  acceptedOrderIds: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Ends an experiment before its fault: the steady state did not hold. */
class SteadyStateMissing extends Error {}

/** A result for an experiment that did not run. */
export function skipped(e: Experiment, reason: string): ExperimentResult {
  return {
    name: e.name,
    category: e.category,
    fault: e.fault,
    hypothesis: e.hypothesis,
    status: 'skipped',
    reason,
    orders: { attempted: 0, retried: 0, ...countOutcomes([]) },
    checks: [],
    deadLetters: { found: 0, replayed: 0, groups: {} },
    durationMs: 0,
  };
}

/** Runs `e` against the shop in `ctx`. Never throws: a harness failure is reported as the reason. */
export async function runExperiment(
  e: Experiment,
  ctx: ExperimentContext,
  deps: ExperimentDeps,
): Promise<ExperimentResult> {
  const s = deps.settings;
  const started = Date.now();
  const result = skipped(e, '');
  delete result.reason;
  const driver = new LoadDriver({
    customers: deps.customers,
    products: deps.products,
    concurrency: s.concurrency,
    maxOrders: s.maxOrders,
  });
  let removed = true;
  let removeFault: (() => Promise<void>) | undefined;
  try {
    driver.setPhase('before');
    driver.start();
    await sleep(s.steadyMs);
    result.before = checkHypothesis(windowStats(driver.records, started, Date.now()), s.steady);
    if (!result.before.holds) {
      // No fault on a system that is not steady; what it left behind is still checked below.
      result.status = 'aborted';
      result.reason = `steady state not established before the fault: ${result.before.why}`;
      throw new SteadyStateMissing();
    }

    driver.setPhase('fault');
    const injectedAt = Date.now();
    removed = false;
    const fault = await e.inject(ctx);
    removeFault = fault.remove;
    result.detail = fault.detail;
    await sleep(e.holdMs * s.holdScale);
    result.checks.push(...((await fault.observe?.()) ?? []));
    await fault.remove();
    removed = true;
    const removedAt = Date.now();
    driver.setPhase('recovery');
    const since = e.recoverFrom === 'injection' ? injectedAt : removedAt;
    const counting = e.recoveredWhen ?? 'settled';
    const recovered = await waitFor(
      () => recoveredAt(driver.records, since, 3, counting),
      s.recoveryTimeoutMs,
      200,
    );
    result.times = { injectedAt, removedAt, recoveredAt: recovered };
    result.during = windowStats(driver.records, injectedAt, recovered ?? Date.now());
    if (recovered !== undefined) result.recoveryMs = recovered - since;
    if (e.servesThroughout) {
      const during = checkHypothesis(result.during, s.steady);
      result.checks.push({
        name: 'served throughout',
        ok: during.holds,
        detail: during.holds
          ? `${during.stats.ordersPerSecond.toFixed(1)} orders/s while the fault held, error rate ${(during.stats.errorRate * 100).toFixed(1)} %`
          : during.why,
      });
    }
    result.checks.push({
      name: 'recovered',
      ok: recovered !== undefined,
      detail:
        recovered !== undefined
          ? `orders ${counting === 'completed' ? 'complete' : 'settle'} again ${((recovered - since) / 1000).toFixed(1)} s after the fault ${e.recoverFrom === 'injection' ? 'struck' : 'was removed'}`
          : `no streak of ${counting} orders within ${s.recoveryTimeoutMs / 1000} s${driver.capped.includes('recovery') ? ` (the load reached its bound of ${s.maxOrders} orders in the recovery phase)` : ''}`,
    });

    driver.setPhase('after');
    const afterFrom = Date.now();
    await sleep(s.steadyMs);
    result.after = checkHypothesis(windowStats(driver.records, afterFrom, Date.now()), s.steady);
    result.checks.push({
      name: 'steady state after recovery',
      ok: result.after.holds,
      detail: result.after.holds
        ? `${result.after.stats.ordersPerSecond.toFixed(1)} orders/s`
        : result.after.why,
    });
    await driver.stop();
    result.checks.push(
      ...((await e
        .verify?.(ctx, result.times)
        .catch((error: unknown) => [{ name: 'verify', ok: false, detail: (error as Error).message }])) ?? []),
    );
  } catch (error) {
    if (!(error instanceof SteadyStateMissing)) {
      result.status = 'failed';
      result.reason = (error as Error).message;
    }
    ctx.log(`${e.name}: ${result.reason}`);
  } finally {
    if (!removed)
      await removeFault?.().catch((error: unknown) => ctx.log(`removing the fault failed: ${error}`));
    await driver.stop();
    deps.acceptedOrderIds.push(...driver.acceptedOrderIds);
    const records = driver.records;
    result.orders = {
      attempted: records.length,
      retried: records.filter((r) => r.requests > 1).length,
      ...countOutcomes(records),
    };
  }
  await settle(e, ctx, deps, result);
  result.durationMs = Date.now() - started;
  return result;
}

/** Dead letters, then the invariant checker; sets the final status. */
async function settle(e: Experiment, ctx: ExperimentContext, deps: ExperimentDeps, result: ExperimentResult) {
  try {
    const letters = await ctx.admin.deadLetters();
    result.deadLetters.found = letters.length;
    for (const d of letters)
      result.deadLetters.groups[d.group] = (result.deadLetters.groups[d.group] ?? 0) + 1;
    // Bus messages parked by a consumer are replayed; a failed saga is a finding and stays.
    const byService = new Map<string, string[]>();
    for (const d of letters.filter((x) => !x.group.startsWith('saga-')))
      byService.set(d.service, [...(byService.get(d.service) ?? []), d.id]);
    for (const [service, ids] of byService)
      result.deadLetters.replayed += await ctx.admin.replay(service, ids);
    if (result.deadLetters.found > 0)
      ctx.log(`${e.name}: ${result.deadLetters.found} dead letters, ${result.deadLetters.replayed} replayed`);
  } catch (error) {
    result.checks.push({ name: 'dead letters listed', ok: false, detail: (error as Error).message });
  }
  const report = await checkInvariants({
    topology: ctx.shop.topology,
    expectedOrderIds: deps.acceptedOrderIds,
    settleMs: deps.settings.settleMs,
  });
  result.invariants = {
    ok: report.ok,
    violations: report.violations.slice(0, 100),
    waitedMs: report.waitedMs,
    orders: report.counts.orders,
  };
  if (result.status === 'aborted' || result.status === 'failed') return;
  result.status = report.ok && result.checks.every((c) => c.ok) ? 'passed' : 'failed';
}
