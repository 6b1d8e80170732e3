/**
 * The invariant checker: reads every service's database of a shop (from its topology) and
 * checks the shop's promises — no order lost, every saga terminal, no double charge, no
 * charge for a cancelled order, stock conserved, read model and notifications consistent,
 * nothing stuck in an outbox or a dead-letter store.
 *
 * The system is eventually consistent, so the checker first waits (up to `settleMs`) for it to
 * settle; whatever is still wrong after that is a violation.
 *
 * @example
 * ```ts
 * import { checkInvariants, formatInvariantReport } from '@trellis/shop/invariants';
 * const report = await checkInvariants({ topology: readTopology('./data') });
 * console.log(formatInvariantReport(report));
 * process.exit(report.ok ? 0 : 1);
 * ```
 */
import type { SqlDatabase } from '@trellis/core';
import { SqliteDatabase } from '@trellis/sqlite';
import type { Topology } from '../supervisor/topology.js';
import { checkFacts, INVARIANTS, type InvariantName, type Violation } from './checks.js';
import { openShopDatabases } from './shop-databases.js';
import { readShopFacts, type ShopFacts } from './shop-facts.js';

/** Options of {@link checkInvariants}. */
export interface CheckOptions {
  topology: Pick<Topology, 'databases' | 'bus'>;
  /** Orders the caller saw accepted; each must exist. */
  expectedOrderIds?: Iterable<string>;
  /** How long to wait for the system to settle before judging. Default 60 s. */
  settleMs?: number;
  /** Poll interval while settling. Default 250 ms. */
  pollMs?: number;
}

/** The result of a check. */
export interface InvariantReport {
  ok: boolean;
  violations: Violation[];
  /** Per invariant: how many violations. */
  invariants: Array<{ name: InvariantName; description: string; violations: number }>;
  /** How long the checker waited for the system to settle (ms). */
  waitedMs: number;
  counts: {
    orders: number;
    ordersByStatus: Record<string, number>;
    sagasByStatus: Record<string, number>;
    products: number;
    charges: number;
    deadLetters: number;
  };
}

function tally(values: Iterable<string>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}

/** Runs the checks (waiting for the system to settle first). */
export async function checkInvariants(o: CheckOptions): Promise<InvariantReport> {
  const started = Date.now();
  const settleMs = o.settleMs ?? 60_000;
  const expected = [...(o.expectedOrderIds ?? [])];
  const dbs = openShopDatabases(o.topology);
  const bus: SqlDatabase | undefined =
    o.topology.bus.kind === 'sqlite' ? SqliteDatabase.open(o.topology.bus.file) : undefined;
  try {
    let facts: ShopFacts;
    let violations: Violation[];
    for (;;) {
      facts = await readShopFacts(dbs, bus);
      violations = checkFacts(facts, expected);
      if (violations.length === 0 || Date.now() - started >= settleMs) break;
      await new Promise((r) => setTimeout(r, o.pollMs ?? 250));
    }
    return {
      ok: violations.length === 0,
      violations,
      invariants: INVARIANTS.map((i) => ({
        ...i,
        violations: violations.filter((x) => x.invariant === i.name).length,
      })),
      waitedMs: Date.now() - started,
      counts: {
        orders: facts.orders.size,
        ordersByStatus: tally([...facts.orders.values()].map((x) => x.state.status)),
        sagasByStatus: tally([...facts.sagas.values()].map((x) => x.status)),
        products: facts.stock.length,
        charges: facts.charges.length,
        deadLetters: facts.deadLetters.length,
      },
    };
  } finally {
    await dbs.close();
    await bus?.close();
  }
}

/** The report as a table, with the first violations of each failed invariant. */
export function formatInvariantReport(r: InvariantReport, maxPerInvariant = 5): string {
  const lines = [
    `Invariants (${r.counts.orders} orders, ${r.counts.products} products, checked after ${(r.waitedMs / 1000).toFixed(1)} s)`,
  ];
  for (const i of r.invariants) {
    lines.push(
      `  ${i.violations === 0 ? 'ok  ' : 'FAIL'}  ${i.name.padEnd(26)} ${i.description}${i.violations ? `  (${i.violations})` : ''}`,
    );
    if (i.violations) {
      for (const x of r.violations.filter((v) => v.invariant === i.name).slice(0, maxPerInvariant)) {
        lines.push(`          ${x.subject}: ${x.detail}`);
      }
    }
  }
  lines.push(r.ok ? 'All invariants hold.' : `${r.violations.length} violation(s).`);
  return lines.join('\n');
}
