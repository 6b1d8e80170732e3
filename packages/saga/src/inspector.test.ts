import { describe, expect, it } from 'vitest';
import { ev } from './conformance/fixture.js';
import { isSagaExecutionError, isSagaFailedError, isSagaStateError } from './errors.js';
import { summarise } from './inspector.js';
import { canonicalJson, toResult, unwrapResult } from './result.js';
import type { SagaEvent } from './store.js';

const timeline = (events: ReturnType<typeof ev>[]): SagaEvent[] =>
  events.map((e, i) => ({ ...e, seq: i + 1, sagaId: 's' }));

describe('summarise', () => {
  it('folds retries, crash recoveries and compensation into one line per step', () => {
    const steps = summarise(
      timeline([
        ev('saga_started', null),
        ev('step_started', 'reserve', { attempt: 1 }),
        ev('step_failed', 'reserve', { attempt: 1, note: 'retried', error: { message: 'blip' } }),
        ev('step_succeeded', 'reserve', { attempt: 2, durationMs: 12 }),
        ev('step_started', 'charge', { attempt: 1 }),
        ev('step_recovered', 'charge', { attempt: 2, note: 'retry' }),
        ev('step_failed', 'charge', { attempt: 2, note: 'final', error: { message: 'declined', code: 'X' } }),
        ev('compensation_started', 'reserve'),
        ev('compensation_failed', 'reserve', { attempt: 1, note: 'retried', error: { message: 'busy' } }),
        ev('step_compensated', 'reserve', { attempt: 2 }),
        ev('saga_compensated', null),
      ]),
    );
    expect(steps).toEqual([
      {
        step: 'reserve',
        status: 'compensated',
        attempts: 2,
        compensationAttempts: 2,
        durationMs: 12,
        errors: [
          { message: 'blip', at: 1_000, attempt: 1, phase: 'execute' },
          { message: 'busy', at: 1_000, attempt: 1, phase: 'compensate' },
        ],
      },
      {
        step: 'charge',
        status: 'failed',
        attempts: 2,
        compensationAttempts: 0,
        durationMs: null,
        errors: [{ message: 'declined', code: 'X', at: 1_000, attempt: 2, phase: 'execute' }],
      },
    ]);
  });

  it('shows a step in progress and a recovered compensation', () => {
    const steps = summarise(
      timeline([
        ev('step_started', 'a'),
        ev('step_succeeded', 'a'),
        ev('compensation_started', 'a'),
        ev('step_recovered', 'a', { note: 'retry compensation' }),
        ev('compensation_failed', 'a', { note: 'final', error: { message: 'down' } }),
        ev('step_started', 'b'),
      ]),
    );
    expect(steps.map((s) => [s.step, s.status, s.attempts, s.compensationAttempts])).toEqual([
      ['a', 'compensation_failed', 1, 2],
      ['b', 'started', 0, 0],
    ]);
  });
});

describe('results', () => {
  const base = { id: 's1', name: 'n', step: 1, context: { a: 1 }, input: {}, resumeStatus: null, trace: {} };
  const instance = (
    status: 'completed' | 'compensated' | 'failed' | 'running',
    error: { message: string; step?: string } | null = null,
  ) => ({
    ...base,
    status,
    error,
    owner: null,
    worker: null,
    leaseUntil: 0,
    version: 1,
    recoveries: 0,
    createdAt: 0,
    updatedAt: 0,
  });

  it('unwrapResult returns the context or throws the seed-shaped errors', () => {
    expect(unwrapResult(toResult(instance('completed')))).toEqual({ a: 1 });
    const compensated = toResult(instance('compensated', { message: 'declined', step: 'charge' }));
    expect(() => unwrapResult(compensated)).toThrow(expect.objectContaining({ stepName: 'charge' }));
    try {
      unwrapResult(compensated);
    } catch (e) {
      expect(isSagaExecutionError(e)).toBe(true);
      expect((e as Error).cause).toMatchObject({ message: 'declined' });
    }
    const failed = toResult(instance('failed', { message: 'refund down', step: 'refund' }));
    expect(() => unwrapResult(failed)).toThrow(expect.objectContaining({ code: 'SAGA_FAILED' }));
    expect(
      isSagaFailedError(
        (() => {
          try {
            unwrapResult(failed);
          } catch (e) {
            return e;
          }
        })(),
      ),
    ).toBe(true);
    expect(() => toResult(instance('running'))).toThrow(
      expect.objectContaining({ code: 'SAGA_INVALID_STATE' }),
    );
    expect(
      isSagaStateError(
        (() => {
          try {
            toResult(instance('running'));
          } catch (e) {
            return e;
          }
        })(),
      ),
    ).toBe(true);
  });

  it('canonicalJson ignores key order, also nested', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { y: 1, x: 0 }], c: null } })).toBe(
      canonicalJson({ a: { c: null, d: [2, { x: 0, y: 1 }] }, b: 1 }),
    );
    expect(canonicalJson({ a: [1, 2] })).not.toBe(canonicalJson({ a: [2, 1] }));
  });
});
