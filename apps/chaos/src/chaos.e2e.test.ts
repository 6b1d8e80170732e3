/**
 * The chaos harness in CI: the bounded selection (`ci`: a SIGKILL of the saga-running orders
 * replica and of the gateway, a hung payments, PostgreSQL and NATS killed and restarted, an
 * orders replica partitioned from its database inside a network namespace, the card processor
 * failing) against a distributed shop on real PostgreSQL, NATS JetStream and Redis that the
 * harness starts itself. The report must show every experiment passed and not one invariant
 * violated. Under CI=true a machine without network namespaces fails the run.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serverUrl } from '@trellis/testing';
import { describe, expect, it } from 'vitest';
import { CI_SELECTION } from './experiments/catalogue.js';
import { formatExperiment, formatReport } from './report.js';
import { runChaos } from './run-chaos.js';

const ci = process.env.CI === 'true' || process.env.CI === '1';
// The harness starts its own servers (it kills them); the shared ones only tell that the binaries exist.
const servers = serverUrl('postgres') && serverUrl('nats') && serverUrl('redis');
const artifacts = fileURLToPath(new URL('../../../test-artifacts/chaos', import.meta.url));

describe.skipIf(!servers)('chaos harness, CI selection (distributed, real servers)', () => {
  it('passes every experiment with every invariant holding', { timeout: 14 * 60_000 }, async () => {
    const lines: string[] = [];
    const report = await runChaos({
      mode: 'distributed',
      experiments: ['ci'],
      namespaces: ci ? 'required' : 'auto',
      settings: {
        steady: { minOrdersPerSecond: 0.5, maxErrorRate: 0.05 },
        steadyMs: 3000,
        holdScale: 0.7,
        recoveryTimeoutMs: 90_000,
        settleMs: 60_000,
        concurrency: 4,
        maxOrders: 1000,
      },
      customers: 4,
      log: (line) => lines.push(line),
    });
    mkdirSync(artifacts, { recursive: true });
    writeFileSync(join(artifacts, 'ci-report.json'), `${JSON.stringify(report, null, 2)}\n`);
    writeFileSync(join(artifacts, 'ci-run.log'), `${lines.join('\n')}\n\n${formatReport(report)}\n`);

    const ran = report.experiments.filter((r) => r.status !== 'skipped');
    const explain = `${formatReport(report)}\n\n${ran.map(formatExperiment).join('\n\n')}`;
    expect(report.failed, explain).toEqual([]);
    expect(report.violations, explain).toBe(0);
    expect(report.ok, explain).toBe(true);
    // Only partitions may be skipped, and only off CI (no network namespaces on this machine).
    const skipped = report.experiments.filter((r) => r.status === 'skipped').map((r) => r.name);
    expect(skipped).toEqual(ci || report.namespaces.used ? [] : ['partition-orders-1-db']);
    expect(report.experiments.map((r) => r.name)).toEqual([...CI_SELECTION]);
    for (const r of ran) {
      expect(r.orders.attempted, r.name).toBeGreaterThan(0);
      expect(r.recoveryMs, r.name).toBeDefined();
      expect(r.invariants?.ok, r.name).toBe(true);
    }
  });
});
