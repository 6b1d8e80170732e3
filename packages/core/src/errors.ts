/**
 * One error base for every Trellis package: a stable machine-readable `code`, the HTTP
 * `status` it maps to at a service edge, optional structured `details`, and `cause` passed
 * through. Guards use a `Symbol.for` brand instead of `instanceof`, so they still work when
 * two copies of a Trellis package end up in one process (duplicate installs, bundlers).
 */

const BRAND = Symbol.for('trellis.error');

/** Options accepted by every {@link TrellisError} constructor. */
export interface TrellisErrorOptions {
  /** The underlying error, kept for logs and `error.cause` chains. */
  cause?: unknown;
  /** Structured, JSON-serialisable data for clients (e.g. the invalid fields). */
  details?: unknown;
}

/**
 * Base class of all Trellis errors.
 *
 * @example
 * ```ts
 * class OutOfStockError extends TrellisError {
 *   constructor(sku: string) { super('OUT_OF_STOCK', `No stock for ${sku}`, 409); }
 * }
 * ```
 */
export class TrellisError extends Error {
  /** Stable, documented identifier of the failure (never reworded). */
  readonly code: string;
  /** HTTP status a service edge answers with for this error. */
  readonly status: number;
  /** Structured data for the client; safe to serialise. */
  readonly details: unknown;

  constructor(code: string, message: string, status = 500, options: TrellisErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = status;
    this.details = options.details;
    Object.defineProperty(this, BRAND, { value: true, enumerable: false });
  }

  /** The JSON body a service edge sends: `{ error: { code, message, details } }`. */
  toJSON(): { error: { code: string; message: string; details?: unknown } } {
    const body: { code: string; message: string; details?: unknown } = {
      code: this.code,
      message: this.message,
    };
    if (this.details !== undefined) body.details = this.details;
    return { error: body };
  }
}

/** True when `e` is any Trellis error, from this copy of the package or another. */
export function isTrellisError(e: unknown): e is TrellisError {
  return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[BRAND] === true;
}

/**
 * Builds an `isXError` guard that recognises errors by their stable code, so it survives
 * duplicate installs where `instanceof` would not.
 */
export function errorGuard<T extends TrellisError>(code: string): (e: unknown) => e is T {
  return (e: unknown): e is T => isTrellisError(e) && e.code === code;
}

/** One problem in a validated input: where it is and what is wrong. */
export interface ValidationIssue {
  /** Dotted path to the offending field, `''` for the whole input. */
  path: string;
  message: string;
}

/** Anything shaped like a ZodError (structural, so core needs no zod dependency). */
interface ZodLikeError {
  issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>;
}

/** Input failed its schema. HTTP 400; `details.issues` names every bad field. */
export class ValidationError extends TrellisError {
  readonly issues: ValidationIssue[];

  constructor(
    message: string,
    issues: ValidationIssue[] = [],
    options: Omit<TrellisErrorOptions, 'details'> = {},
  ) {
    super('VALIDATION_FAILED', message, 400, { ...options, details: { issues } });
    this.issues = issues;
  }

  /** Converts a ZodError (or anything with `.issues`) into a ValidationError naming the fields. */
  static fromZod(error: ZodLikeError, what = 'input'): ValidationError {
    const issues = error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
    const first = issues[0];
    const where = first ? (first.path ? ` at "${first.path}"` : '') : '';
    const summary = first ? `Invalid ${what}${where}: ${first.message}` : `Invalid ${what}`;
    return new ValidationError(summary, issues, { cause: error });
  }
}
/** Guard for {@link ValidationError}. */
export const isValidationError = errorGuard<ValidationError>('VALIDATION_FAILED');

/** The addressed thing does not exist (or the caller may not know it exists). HTTP 404. */
export class NotFoundError extends TrellisError {
  constructor(message: string, options: TrellisErrorOptions = {}) {
    super('NOT_FOUND', message, 404, options);
  }
}
/** Guard for {@link NotFoundError}. */
export const isNotFoundError = errorGuard<NotFoundError>('NOT_FOUND');

/** The request conflicts with current state (duplicate, wrong lifecycle step). HTTP 409. */
export class ConflictError extends TrellisError {
  constructor(message: string, options: TrellisErrorOptions = {}) {
    super('CONFLICT', message, 409, options);
  }
}
/** Guard for {@link ConflictError}. */
export const isConflictError = errorGuard<ConflictError>('CONFLICT');

/** No valid credentials were presented. HTTP 401. */
export class UnauthorizedError extends TrellisError {
  constructor(message = 'Authentication required', options: TrellisErrorOptions = {}) {
    super('UNAUTHORIZED', message, 401, options);
  }
}
/** Guard for {@link UnauthorizedError}. */
export const isUnauthorizedError = errorGuard<UnauthorizedError>('UNAUTHORIZED');

/** Credentials are valid but lack the permission. HTTP 403. */
export class ForbiddenError extends TrellisError {
  constructor(message = 'Forbidden', options: TrellisErrorOptions = {}) {
    super('FORBIDDEN', message, 403, options);
  }
}
/** Guard for {@link ForbiddenError}. */
export const isForbiddenError = errorGuard<ForbiddenError>('FORBIDDEN');

/** The operation was cancelled through its AbortSignal. */
export class AbortedError extends TrellisError {
  constructor(message = 'Operation aborted', options: TrellisErrorOptions = {}) {
    super('ABORTED', message, 499, options);
  }
}
/** Guard for {@link AbortedError}. */
export const isAbortedError = errorGuard<AbortedError>('ABORTED');
