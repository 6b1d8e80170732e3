/**
 * The SQL injection proof, registered once per storage mode: every payload in every string
 * field, query and path parameter of every public route (and every assistant tool argument),
 * through the gateway, as a customer and as an admin.
 *
 * - Every answer is 2xx/4xx with no SQL, stack or internal detail in it.
 * - Reads change nothing, in any table of any database, and searches find nothing (a
 *   tautology that widened a WHERE clause would return rows).
 * - Writes change only what an ordinary request to the same route changes (its footprint,
 *   learned from control requests without payloads), by at most as many rows as the accepted
 *   requests account for; a route whose payloads were all refused changes nothing; and every
 *   payload an accepted request stored comes back out of storage byte for byte.
 * - Nothing ran: no table dropped or created, no marker file, no payload text in any statement
 *   PostgreSQL executed (sampled from `pg_stat_activity`), every shop invariant holds.
 */
import { existsSync, rmSync } from 'node:fs';
import type { SqlDatabase } from '@trellis/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestShop } from '../e2e/test-shop.js';
import { checkInvariants, formatInvariantReport } from '../invariants/check-invariants.js';
import {
  casesFor,
  describeOutcome,
  extraControls,
  type InjectionOutcome,
  runCases,
  sendAs,
} from './injection-cases.js';
import {
  INJECTION_PAYLOADS,
  type InjectionPayload,
  MARKER_FILE,
  STATEMENT_MARKERS,
} from './injection-payloads.js';
import { injectionRequest, valueAt } from './injection-requests.js';
import { type InjectionWorld, prepareInjectionWorld } from './injection-world.js';
import { publicRoutes } from './route-catalog.js';
import {
  closeAll,
  databasesOf,
  diffSnapshots,
  rowDeltas,
  type StateSnapshot,
  settled,
  snapshot,
} from './state-snapshot.js';
import { type StatementWatch, watchStatements } from './statement-watch.js';
import { whereStored } from './stored-values.js';

/** Options of {@link describeInjection}. */
export interface InjectionSuiteOptions {
  /** Starts the shop under attack. */
  start(): Promise<TestShop>;
  /** The PostgreSQL server the shop stores in, to watch its statements (distributed mode). */
  postgresUrl?: string;
  payloads?: readonly InjectionPayload[];
}

/** Fields whose value is a search, a filter or a secret: accepted, but never stored as sent. */
const NOT_STORED: Readonly<Record<string, readonly string[] | 'all'>> = {
  'POST /api/auth/login': 'all',
  'POST /api/auth/signup': ['password'],
  'POST /api/products/lookup': 'all',
  'POST /api/assistant/mcp': 'all',
  'POST /api/assistant/runs/:id/approvals': 'all',
  'POST /api/ops/dead-letters/replay': 'all',
  'POST /api/ops/dead-letters/purge': 'all',
  'POST /api/ops/sagas/:id/resume': 'all',
  'POST /api/orders/:id/cancel': 'all',
  'POST /api/assistant/chat': ['runId'],
};
/** Searches whose answer must be empty for every payload (no product or order holds one). */
const SEARCHES: Readonly<Record<string, string>> = { 'GET /api/products': 'q', 'GET /api/orders': 'q' };

/**
 * Routes whose rows per request depend on how a saga ends (stock, the card, compensation):
 * bounded by the controls, not counted exactly; the invariant checker judges each order.
 */
const OUTCOME_DEPENDENT: readonly string[] = ['POST /api/orders'];

const routes = publicRoutes();
const ok = (status: number) => status >= 200 && status < 300;

function stored(o: InjectionOutcome): boolean {
  const rule = NOT_STORED[o.c.route.key];
  if (o.c.target.where !== 'body' || rule === 'all') return false;
  return !rule?.includes(o.c.target.field);
}

function lastOfEach(outcomes: readonly InjectionOutcome[]): InjectionOutcome[] {
  const last = new Map<string, InjectionOutcome>();
  for (const o of outcomes) last.set(`${o.c.role} ${o.c.target.field}`, o);
  return [...last.values()];
}

/** Registers the suite in a `describe` named `name`. */
export function describeInjection(name: string, o: InjectionSuiteOptions, skip = false): void {
  describe.skipIf(skip)(name, () => {
    const payloads = o.payloads ?? INJECTION_PAYLOADS;
    const counter = { n: 0 };
    const orderIds: string[] = [];
    let t: TestShop;
    let world: InjectionWorld;
    let dbs: Record<string, SqlDatabase>;
    let watch: StatementWatch | undefined;
    let initial: StateSnapshot;
    const tally: Array<{ route: string; requests: number; accepted: number; stored: number }> = [];

    beforeAll(async () => {
      rmSync(MARKER_FILE, { force: true });
      t = await o.start();
      world = await prepareInjectionWorld(t);
      orderIds.push(world.orderId);
      dbs = databasesOf(t.shop.topology);
      if (o.postgresUrl) watch = await watchStatements(o.postgresUrl, STATEMENT_MARKERS);
      initial = await settled(dbs);
    });

    afterAll(async () => {
      const total = (k: 'requests' | 'accepted' | 'stored') => tally.reduce((n, x) => n + x[k], 0);
      console.log(
        `${name}: ${total('requests')} requests, ${total('accepted')} accepted, ${total('stored')} payloads read back from storage\n${tally
          .map((x) => `  ${x.route}: ${x.requests} sent, ${x.accepted} accepted, ${x.stored} read back`)
          .join('\n')}`,
      );
      await watch?.stop();
      if (dbs) await closeAll(dbs);
      await t?.stop();
    });

    it('reads: every query and path parameter of every GET route; nothing leaked, found or written', async () => {
      const reads = routes.filter((r) => r.method === 'GET');
      const before = await settled(dbs);
      // Each read as a careful client sends it, then with every payload at every spot.
      const controls = await runCases(
        world,
        reads.flatMap((r) => casesFor(r, world, [], counter, true)),
      );
      expect(controls.filter((x) => x.problems.length > 0).map(describeOutcome)).toEqual([]);
      const outcomes = await runCases(
        world,
        reads.flatMap((r) => casesFor(r, world, payloads, counter)),
      );
      expect(outcomes.length).toBeGreaterThan(reads.length * payloads.length);
      tally.push({
        route: 'every GET route',
        requests: outcomes.length,
        accepted: outcomes.filter((x) => ok(x.res.status)).length,
        stored: 0,
      });
      expect(outcomes.filter((x) => x.problems.length > 0).map(describeOutcome)).toEqual([]);
      const widened = outcomes.filter((x) => {
        const field = SEARCHES[x.c.route.key];
        const items = (x.res.json as { items?: unknown[] } | undefined)?.items;
        return field === x.c.target.field && ok(x.res.status) && (items?.length ?? 0) > 0;
      });
      expect(widened.map(describeOutcome)).toEqual([]);
      // The payloads reached the SQL: free-text searches answer most of them, not refuse them.
      for (const [key, field] of Object.entries(SEARCHES)) {
        const searched = outcomes.filter((x) => x.c.route.key === key && x.c.target.field === field);
        expect(searched.filter((x) => ok(x.res.status)).length, key).toBeGreaterThan(searched.length / 2);
      }
      expect(diffSnapshots(before, await settled(dbs))).toEqual([]);
    });

    const writes = routes.filter((r) => r.method !== 'GET');
    for (const route of writes) {
      it(`writes: ${route.key} changes only its own footprint, and stores payloads byte for byte`, async () => {
        const cases = casesFor(route, world, payloads, counter);
        if (cases.length === 0) return; // no string anywhere in it (e.g. PUT /api/admin/processor)
        // Controls: the same requests without a payload, as each role, each settled on its own:
        // the tables they change are the footprint, their row counts the most one request adds.
        const baseOf = () => world.base(route, counter.n++);
        const controls = [baseOf(), ...extraControls(route, baseOf())];
        const footprint: Record<string, number> = {};
        const perAccepted: Array<Record<string, number>> = [];
        let s1 = await settled(dbs);
        for (const base of controls) {
          for (const role of ['customer', 'admin'] as const) {
            const res = await sendAs(world, role, injectionRequest(route, base), route.key.includes('/mcp'));
            const id = (res.json as { id?: unknown } | undefined)?.id;
            if (route.key === 'POST /api/orders' && ok(res.status) && typeof id === 'string')
              orderIds.push(id);
            const after = await settled(dbs);
            const deltas = rowDeltas(s1, after);
            for (const [table, delta] of Object.entries(deltas))
              footprint[table] = Math.max(footprint[table] ?? 0, delta);
            if (ok(res.status)) perAccepted.push(deltas);
            s1 = after;
          }
        }
        // Updates of one resource go one at a time, so each answer shows that request's own write.
        const updates = route.method === 'PATCH';
        const outcomes = await runCases(world, cases, updates ? 1 : 6);
        for (const x of outcomes) {
          const id = (x.res.json as { id?: unknown } | undefined)?.id;
          if (route.key === 'POST /api/orders' && ok(x.res.status) && typeof id === 'string')
            orderIds.push(id);
        }
        expect(outcomes.filter((x) => x.problems.length > 0).map(describeOutcome)).toEqual([]);
        const accepted = outcomes.filter((x) => ok(x.res.status));
        const s2 = await settled(dbs);
        const changes = diffSnapshots(s1, s2);
        expect(changes.filter((c) => /new table|table gone/.test(c))).toEqual([]);
        if (accepted.length === 0) {
          tally.push({ route: route.key, requests: outcomes.length, accepted: 0, stored: 0 });
          expect(changes, 'every payload refused, yet something changed').toEqual([]);
          return;
        }
        const changed = rowDeltas(s1, s2);
        const outside = Object.keys(changed).filter((table) => !(table in footprint));
        expect(outside, `accepted: ${accepted.slice(0, 3).map(describeOutcome).join('\n')}`).toEqual([]);
        // No more rows than the accepted requests account for, and none taken away; where every
        // control added the same number (a sign-up adds one user), exactly that many per request.
        for (const [table, delta] of Object.entries(changed)) {
          const counts = new Set(perAccepted.map((d) => d[table] ?? 0));
          const what = `${table}: ${delta} rows from ${accepted.length} accepted`;
          if (counts.size === 1 && perAccepted.length > 1 && !OUTCOME_DEPENDENT.includes(route.key))
            expect(delta, what).toBe(([...counts][0] ?? 0) * accepted.length);
          expect(delta, what).toBeLessThanOrEqual((footprint[table] ?? 0) * accepted.length);
          expect(delta, `${table} lost rows`).toBeGreaterThanOrEqual(0);
        }
        if (updates) {
          const notEchoed = accepted.filter(
            (x) => stored(x) && valueAt(x.res.json, x.c.target.field.split('.')) !== x.c.payload.text,
          );
          expect(notEchoed.map(describeOutcome), 'the answer shows the value as sent').toEqual([]);
        }
        // An update leaves only the last value of each field of each caller's resource in place.
        const keep = updates ? lastOfEach(accepted.filter(stored)) : accepted.filter(stored);
        const found = await whereStored(dbs, Object.keys(changed), [
          ...new Set(keep.map((x) => x.c.payload.text)),
        ]);
        const lost = keep.filter((x) => (found.get(x.c.payload.text) ?? []).length === 0);
        tally.push({
          route: route.key,
          requests: outcomes.length,
          accepted: accepted.length,
          stored: keep.length,
        });
        expect(lost.map(describeOutcome)).toEqual([]);
      });
    }

    it('nothing ran: no statement built from a payload, no marker, every table there, every invariant', async () => {
      const seen = await watch?.stop();
      watch = undefined;
      if (o.postgresUrl) {
        expect(seen?.samples).toBeGreaterThan(10);
        expect(seen?.seen).toEqual([]);
      }
      expect(existsSync(MARKER_FILE)).toBe(false);
      const now = await snapshot(dbs);
      const tables = (s: StateSnapshot) => Object.keys(s).sort();
      expect(tables(now)).toEqual(tables(initial));
      // The dead letter parked on purpose goes home first: every invariant then has to hold.
      const replay = await sendAs(world, 'admin', {
        method: 'POST',
        path: '/api/ops/dead-letters/replay',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ids: [world.deadLetterId] }),
      });
      expect(replay.status, replay.text).toBe(200);
      const report = await checkInvariants({
        topology: t.shop.topology,
        expectedOrderIds: orderIds,
        settleMs: 60_000,
      });
      expect(report.violations, formatInvariantReport(report)).toEqual([]);
    });
  });
}
