export { type Clock, flushMicrotasks, ManualClock, sleep, systemClock, type TimerHandle } from './clock.js';
export {
  AbortedError,
  ConflictError,
  errorGuard,
  ForbiddenError,
  isAbortedError,
  isConflictError,
  isForbiddenError,
  isNotFoundError,
  isTrellisError,
  isUnauthorizedError,
  isValidationError,
  NotFoundError,
  TrellisError,
  type TrellisErrorOptions,
  UnauthorizedError,
  ValidationError,
  type ValidationIssue,
} from './errors.js';
export { uuidv7 } from './ids.js';
export {
  inTransaction,
  type SqlDatabase,
  type SqlDialect,
  type SqlExecutor,
  type SqlTransaction,
} from './sql.js';
