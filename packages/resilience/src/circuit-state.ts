/**
 * The three states of a circuit breaker, named as in the seed. A plain object instead of a
 * TypeScript `enum` so the values are ordinary strings (serialisable, erasable syntax) while
 * `CircuitState.OPEN` reads exactly as the seed's enum did.
 */
export const CircuitState = {
  /** Calls flow; outcomes are recorded and may trip the breaker. */
  CLOSED: 'CLOSED',
  /** Calls are rejected fast until the open timeout elapses. */
  OPEN: 'OPEN',
  /** A limited number of probe calls test whether the dependency recovered. */
  HALF_OPEN: 'HALF_OPEN',
} as const;

/** One of `'CLOSED' | 'OPEN' | 'HALF_OPEN'`. */
export type CircuitState = (typeof CircuitState)[keyof typeof CircuitState];
