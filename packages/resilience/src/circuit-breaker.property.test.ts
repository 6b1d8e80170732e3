import { ManualClock } from '@trellis/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from './circuit-breaker.js';
import type { CircuitState } from './circuit-state.js';
import { isCircuitBreakerOpenError } from './errors.js';

/** Transitions a breaker may make by itself (manual isolate/reset are not used here). */
const allowed = new Set(['CLOSED>OPEN', 'OPEN>HALF_OPEN', 'HALF_OPEN>OPEN', 'HALF_OPEN>CLOSED']);

type Command =
  | { kind: 'call'; outcome: 'ok' | 'fail' | 'hang'; withSignal: boolean }
  | { kind: 'settle'; ok: boolean }
  | { kind: 'advance'; ms: number };

const command: fc.Arbitrary<Command> = fc.oneof(
  fc.record({
    kind: fc.constant('call' as const),
    outcome: fc.constantFrom('ok' as const, 'fail' as const, 'hang' as const),
    withSignal: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('settle' as const), ok: fc.boolean() }),
  fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 1500 }) }),
);

describe('CircuitBreaker invariants (random schedules)', () => {
  it('never runs work while OPEN, never exceeds the probe limit, only makes legal transitions', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(command, { maxLength: 60 }),
        fc.integer({ min: 1, max: 3 }),
        fc.boolean(),
        async (commands, maxProbes, rateBased) => {
          const clock = new ManualClock(1_000_000);
          const breaker = new CircuitBreaker({
            clock,
            timeout: 1000,
            probeTimeout: 700,
            successThreshold: 2,
            halfOpenMaxProbes: maxProbes,
            ...(rateBased
              ? {
                  failureRateThreshold: 0.5,
                  window: { type: 'time' as const, durationMs: 3000 },
                  minimumCalls: 3,
                }
              : { failureThreshold: 3 }),
          });
          const transitions: string[] = [];
          let state: CircuitState = 'CLOSED';
          breaker.onStateChange((e) => {
            transitions.push(`${e.from}>${e.to}`);
            expect(e.from).toBe(state);
            state = e.to;
          });
          const hung: Array<{ resolve: () => void; reject: () => void }> = [];
          let probesRunning = 0;
          let maxProbesRunning = 0;
          const settled: Promise<unknown>[] = [];

          for (const c of commands) {
            if (c.kind === 'advance') {
              await clock.advance(c.ms);
            } else if (c.kind === 'settle') {
              const h = hung.shift();
              if (h) (c.ok ? h.resolve : h.reject)();
              await clock.advance(0);
            } else {
              const stateBefore = breaker.state; // the read may move OPEN → HALF_OPEN
              let ran = false;
              const work = () => {
                ran = true;
                const probe = stateBefore === 'HALF_OPEN';
                if (probe) maxProbesRunning = Math.max(maxProbesRunning, ++probesRunning);
                const done = () => {
                  if (probe) probesRunning--;
                };
                if (c.outcome === 'ok') return Promise.resolve('ok').finally(done);
                if (c.outcome === 'fail') return Promise.reject(new Error('fail')).finally(done);
                return new Promise<string>((resolve, reject) => {
                  hung.push({ resolve: () => resolve('late'), reject: () => reject(new Error('late')) });
                }).finally(done);
              };
              const p = breaker
                .execute(work, c.withSignal ? new AbortController().signal : undefined)
                .catch((e: unknown) => e);
              settled.push(p);
              if (stateBefore === 'OPEN') {
                expect(ran).toBe(false);
                expect(isCircuitBreakerOpenError(await p)).toBe(true);
              }
              await clock.advance(0);
            }
          }
          expect(maxProbesRunning).toBeLessThanOrEqual(maxProbes);
          for (const t of transitions) expect(allowed.has(t)).toBe(true);
          for (const h of hung.splice(0)) h.resolve();
          await clock.advance(10_000);
          await Promise.all(settled);
          expect(breaker.metrics.probesInFlight).toBeLessThanOrEqual(maxProbes);
        },
      ),
      {
        numRuns: 300,
        // A schedule that must reach HALF_OPEN with probes hanging, whatever else is generated.
        examples: [
          [
            [
              ...Array.from(
                { length: 3 },
                () => ({ kind: 'call', outcome: 'fail', withSignal: false }) as Command,
              ),
              { kind: 'advance', ms: 1000 },
              ...Array.from(
                { length: 4 },
                () => ({ kind: 'call', outcome: 'hang', withSignal: true }) as Command,
              ),
            ],
            1,
            false,
          ],
        ],
      },
    );
  });
});
