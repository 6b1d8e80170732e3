/**
 * An honest simulator of the services a saga calls: it records every call with its
 * idempotency key and applies each key's effect once, like a real idempotent API. The
 * conformance and crash tests read it to prove "no step ran twice with different keys" and
 * "every completed step of a compensated saga was compensated exactly once".
 */

/** One call a step or compensation made. */
export interface LedgerCall {
  sagaId: string;
  step: string;
  phase: 'execute' | 'compensate';
  key: string;
  attempt: number;
}

/** Calls and effects, per idempotency key. */
export class Ledger {
  readonly calls: LedgerCall[] = [];
  /** Keys whose effect has been applied (once each, however often they were called). */
  readonly effects = new Set<string>();

  /** Records a call; returns true when this key's effect is applied now (its first call). */
  record(call: LedgerCall): boolean {
    this.calls.push(call);
    if (this.effects.has(call.key)) return false;
    this.effects.add(call.key);
    return true;
  }

  /** Calls of one saga (optionally one step and phase), in order. */
  of(sagaId: string, step?: string, phase?: 'execute' | 'compensate'): LedgerCall[] {
    return this.calls.filter(
      (c) =>
        c.sagaId === sagaId &&
        (step === undefined || c.step === step) &&
        (phase === undefined || c.phase === phase),
    );
  }

  /** `step:phase` sequence of one saga, e.g. `['a:execute', 'b:execute', 'a:compensate']`. */
  sequence(sagaId: string): string[] {
    return this.of(sagaId).map((c) => `${c.step}:${c.phase}`);
  }

  /** Distinct idempotency keys used per (saga, step, phase). */
  keysPer(sagaId: string, step: string, phase: 'execute' | 'compensate'): Set<string> {
    return new Set(this.of(sagaId, step, phase).map((c) => c.key));
  }
}
