/**
 * Per-request state the runtime keeps on Fastify's request object (internal).
 */
import type { Context, Span } from '@opentelemetry/api';
import type { Identity } from './context.js';

/** What the runtime's hooks learn about a request before its handler runs. */
export interface TrellisRequestState {
  /** `performance.now()` at arrival. */
  start: number;
  correlationId: string;
  span: Span | undefined;
  /** OpenTelemetry context with the server span active. */
  traceContext: Context | undefined;
  identity: Identity | undefined;
  identityToken: string | undefined;
  /** Absolute deadline (clock ms) from the incoming deadline header. */
  deadline: number | undefined;
  idempotencyKey: string | undefined;
  /** Set when this request holds an idempotency claim that must be completed or released. */
  idempotencyClaim: string | undefined;
}

declare module 'fastify' {
  interface FastifyRequest {
    trellis: TrellisRequestState;
  }
}
