/**
 * @trellis/saga: orchestrated sagas with compensation (the seed's API, plus a typed builder),
 * a durable runner that checkpoints every step on a backend's unit of work and resumes after a
 * crash, and choreography helpers (declarative event handlers, process managers with deadlines).
 */

export {
  defineSaga,
  type ForwardStepDefinition,
  type Merge,
  PivotedSagaBuilder,
  type PivotStepDefinition,
  SagaBuilder,
  type StepDefinition,
} from './builder.js';
export * from './choreography/index.js';
export {
  pivotIndex,
  type SagaDefinition,
  type SagaInput,
  type SagaOutput,
  validateDefinition,
} from './definition.js';
export {
  isSagaConflictError,
  isSagaDefinitionError,
  isSagaExecutionError,
  isSagaFailedError,
  isSagaLeaseLostError,
  isSagaNotFoundError,
  isSagaNotRegisteredError,
  isSagaStateError,
  isTerminalStepError,
  SagaConflictError,
  SagaDefinitionError,
  SagaExecutionError,
  SagaFailedError,
  SagaLeaseLostError,
  SagaNotFoundError,
  SagaNotRegisteredError,
  SagaStateError,
  TerminalStepError,
} from './errors.js';
export { SagaInspector, type SagaTimeline, type StepSummary, summarise } from './inspector.js';
export { MemorySagaStore } from './memory-store.js';
export {
  combineObservers,
  SagaCounters,
  type SagaEventBase,
  type SagaObserver,
  type StepFinishedEvent,
} from './observer.js';
export { canonicalJson, type SagaHandle, type SagaResult, toResult, unwrapResult } from './result.js';
export { type InMemoryRunOptions, runInMemory } from './run-in-memory.js';
export { SagaRunner, type StartOptions } from './runner.js';
export type { SagaRunnerOptions } from './runner-options.js';
export { Saga } from './saga.js';
export {
  type CompensationContext,
  idempotencyKeys,
  RESERVED_CONTEXT_KEYS,
  type SagaRunInfo,
  type SagaStep,
  type StepContext,
  type StepPolicies,
  type StepRetry,
  type TraceContext,
} from './step.js';
export {
  type ClaimRequest,
  emptyCounts,
  isTerminalStatus,
  type NewSagaEvent,
  SAGA_STATUSES,
  type SagaCheckpoint,
  type SagaEvent,
  type SagaEventKind,
  type SagaInstance,
  type SagaListFilter,
  type SagaStatus,
  type SagaStore,
  type StoredError,
  toStoredError,
} from './store.js';
export { failedSagaTopic } from './terminal.js';
