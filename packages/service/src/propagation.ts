/**
 * The headers that ride along every hop (request id, correlation id, deadline). Incoming ids
 * are validated: a malformed id is replaced, never echoed into logs or other services.
 * Deadlines themselves are `Deadline` from @trellis/resilience.
 */
import { randomUUID } from 'node:crypto';

/** This hop's request id. */
export const REQUEST_ID_HEADER = 'x-request-id';
/** The id shared by every hop of one user action. */
export const CORRELATION_ID_HEADER = 'x-correlation-id';
/** The remaining time budget of the request (from @trellis/resilience: relative milliseconds). */
export { DEADLINE_HEADER } from '@trellis/resilience';

const ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/** The value if it is a well-formed id (1–128 of `A-Z a-z 0-9 . _ : -`), else undefined. */
export function validId(value: string | string[] | undefined): string | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  return v !== undefined && ID_PATTERN.test(v) ? v : undefined;
}

/** A fresh request id. */
export function newRequestId(): string {
  return randomUUID();
}
