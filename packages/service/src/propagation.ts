/**
 * The headers that ride along every hop (request id, correlation id, deadline) and their
 * parsing. Incoming values are validated: a malformed id is replaced, never echoed into logs or
 * other services.
 */
import { randomUUID } from 'node:crypto';

/** This hop's request id. */
export const REQUEST_ID_HEADER = 'x-request-id';
/** The id shared by every hop of one user action. */
export const CORRELATION_ID_HEADER = 'x-correlation-id';
/**
 * Remaining time budget of the request in milliseconds, relative (so clock skew between hosts
 * does not matter). Each hop subtracts what it spent before forwarding.
 */
export const DEADLINE_HEADER = 'x-request-timeout-ms';

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

/**
 * The absolute deadline (clock ms) described by a deadline header received at `now`, or
 * undefined when absent or malformed. Negative or zero budgets mean "already expired".
 */
export function parseDeadline(value: string | string[] | undefined, now: number): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || !/^-?\d{1,12}$/.test(v)) return undefined;
  return now + Number(v);
}

/** The header value for an absolute deadline at `now` (never negative). */
export function deadlineHeader(deadline: number, now: number): string {
  return String(Math.max(0, Math.floor(deadline - now)));
}
