/**
 * Structured logs with pino. Every line written inside a traced operation carries `trace_id`
 * and `span_id`, so a log line leads straight to its trace (and back).
 */
import { trace } from '@opentelemetry/api';
import { type DestinationStream, type Logger, type LoggerOptions, pino } from 'pino';

/** Options of {@link createLogger}. */
export interface CreateLoggerOptions {
  /** Service name, written as `service` on every line. */
  name: string;
  level?: LoggerOptions['level'];
  /** Where lines go. Default stdout. */
  destination?: DestinationStream;
  /** Extra pino options (redaction, serializers…). */
  pino?: LoggerOptions;
}

/** Adds the active span's ids to a log line (empty outside a span). */
export function traceFields(): { trace_id?: string; span_id?: string } {
  const span = trace.getActiveSpan();
  if (!span) return {};
  const ctx = span.spanContext();
  return { trace_id: ctx.traceId, span_id: ctx.spanId };
}

/**
 * Creates the service logger: JSON lines with `service`, ISO time, and the active trace ids.
 * Authorization, cookie and identity headers are redacted.
 *
 * @example
 * ```ts
 * const log = createLogger({ name: 'orders', level: 'info' });
 * log.info({ orderId }, 'order placed'); // {"service":"orders","trace_id":"…","msg":"order placed"}
 * ```
 */
export function createLogger(options: CreateLoggerOptions): Logger {
  const opts: LoggerOptions = {
    level: options.level ?? 'info',
    base: { service: options.name },
    timestamp: pino.stdTimeFunctions.isoTime,
    mixin: traceFields,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'req.headers["x-trellis-identity"]',
        'req.headers["x-api-key"]',
        'headers.authorization',
        'headers.cookie',
      ],
      censor: '[redacted]',
    },
    ...options.pino,
  };
  return options.destination ? pino(opts, options.destination) : pino(opts);
}
