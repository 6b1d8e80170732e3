import { type Clock, systemClock } from '@trellis/core';
import type { ZodType } from 'zod';
import type { HandlerContext, MessageHandler, SubscribeOptions } from './bus.js';
import { runWithMessage } from './context.js';
import { type DeadLetterStore, type NewDeadLetter, serializeError } from './dead-letter.js';
import { MaxDeliveriesExceededError } from './errors.js';
import type { Message } from './message.js';
import { type BusObserver, notify } from './observer.js';
import { type ResolvedRetry, resolveRetry } from './retry.js';
import { parsePayload, type TopicSchemas } from './schemas.js';
import { assertGroup, assertPattern } from './topics.js';

/**
 * The consumer pipeline shared by every transport: check the attempt budget, validate the
 * payload, run the handler with the message as async context, time it, and decide the
 * outcome. Transports only apply the outcome (ack, reschedule, dead-letter), so retry and
 * dead-letter behaviour is identical on all of them.
 */

/** A subscription with defaults applied; built once per `subscribe`. */
export interface Consumer<P = unknown> {
  transport: string;
  group: string;
  pattern: string;
  handler: MessageHandler<P>;
  schema: ZodType | undefined;
  schemas: TopicSchemas | undefined;
  retry: ResolvedRetry;
  deadLetters: DeadLetterStore;
  observer: BusObserver | undefined;
  clock: Clock;
  concurrency: number;
  visibilityTimeoutMs: number;
  from: 'new' | 'all';
}

/** Bus-wide defaults a transport passes to {@link resolveConsumer}. */
export interface ConsumerDefaults {
  transport: string;
  deadLetters: DeadLetterStore;
  observer?: BusObserver | undefined;
  clock?: Clock | undefined;
  schemas?: TopicSchemas | undefined;
}

/** Validates subscribe arguments and applies defaults. Throws `ValidationError` on bad names. */
export function resolveConsumer<P>(
  pattern: string,
  handler: MessageHandler<P>,
  options: SubscribeOptions<P>,
  defaults: ConsumerDefaults,
): Consumer<P> {
  assertPattern(pattern);
  assertGroup(options?.group);
  if (typeof handler !== 'function') throw new TypeError('handler must be a function');
  const concurrency = options.concurrency ?? 16;
  if (!(concurrency >= 1)) throw new RangeError('concurrency must be at least 1');
  return {
    transport: defaults.transport,
    group: options.group,
    pattern,
    handler,
    schema: options.schema,
    schemas: defaults.schemas,
    retry: resolveRetry(options.retry),
    deadLetters: options.deadLetter?.store ?? defaults.deadLetters,
    observer: defaults.observer,
    clock: defaults.clock ?? systemClock,
    concurrency: Math.floor(concurrency),
    visibilityTimeoutMs: options.visibilityTimeoutMs ?? 30_000,
    from: options.from ?? 'new',
  };
}

/** What the transport must do with a delivery. */
export type Outcome =
  | { type: 'ack' }
  | { type: 'retry'; delayMs: number }
  | { type: 'dead'; entry: NewDeadLetter };

/** One delivery as a transport hands it over. */
export interface Delivery {
  message: Message;
  /** When the first attempt started, if the transport tracks it. */
  firstAttemptAt?: number | undefined;
  signal: AbortSignal;
}

/** Runs one delivery through the pipeline. Never throws: failures become outcomes. */
export async function processDelivery(consumer: Consumer, delivery: Delivery): Promise<Outcome> {
  const { message } = delivery;
  const { retry, clock } = consumer;
  if (message.attempt > retry.maxAttempts) {
    return dead(
      consumer,
      delivery,
      'max-deliveries',
      new MaxDeliveriesExceededError(message.attempt, retry.maxAttempts),
    );
  }
  const parsed = parsePayload(consumer.schema ?? consumer.schemas?.[message.topic], message.payload);
  if (!parsed.ok) return dead(consumer, delivery, 'invalid-payload', parsed.error);
  const typed: Message = parsed.value === message.payload ? message : { ...message, payload: parsed.value };
  const context: HandlerContext = {
    group: consumer.group,
    pattern: consumer.pattern,
    signal: delivery.signal,
  };
  const started = clock.now();
  try {
    await runWithMessage(typed, () => consumer.handler(typed, context));
  } catch (error) {
    const durationMs = clock.now() - started;
    if (!retry.isRetryable(error) || message.attempt >= retry.maxAttempts) {
      return dead(consumer, delivery, 'failed', error);
    }
    const delayMs = retry.delayFor(message.attempt);
    notify(consumer.observer, 'retried', {
      transport: consumer.transport,
      group: consumer.group,
      topic: message.topic,
      attempt: message.attempt,
      delayMs,
      durationMs,
      error,
    });
    return { type: 'retry', delayMs };
  }
  const now = clock.now();
  notify(consumer.observer, 'handled', {
    transport: consumer.transport,
    group: consumer.group,
    topic: message.topic,
    attempt: message.attempt,
    durationMs: now - started,
    latencyMs: now - message.publishedAt,
  });
  return { type: 'ack' };
}

/** Stores a dead letter and reports it. Throws when the store fails (the transport retries later). */
export async function recordDeadLetter(
  consumer: Consumer,
  entry: NewDeadLetter,
  error?: unknown,
): Promise<void> {
  await consumer.deadLetters.record(entry);
  notify(consumer.observer, 'deadLettered', {
    transport: consumer.transport,
    group: consumer.group,
    topic: entry.topic,
    attempts: entry.attempts,
    reason: entry.reason,
    error: error ?? entry.error,
  });
}

function dead(
  consumer: Consumer,
  delivery: Delivery,
  reason: NewDeadLetter['reason'],
  error: unknown,
): Outcome {
  return { type: 'dead', entry: deadLetterEntry(consumer, delivery, reason, error) };
}

/** The dead letter for a delivery (transports use it for payloads they cannot even decode). */
export function deadLetterEntry(
  consumer: Consumer,
  delivery: Delivery,
  reason: NewDeadLetter['reason'],
  error: unknown,
): NewDeadLetter {
  const { message } = delivery;
  return {
    messageId: message.id,
    group: consumer.group,
    pattern: consumer.pattern,
    topic: message.topic,
    key: message.key,
    headers: { ...(message.headers as Record<string, string>) },
    payload: message.payload,
    reason,
    error: serializeError(error),
    attempts: message.attempt,
    publishedAt: message.publishedAt,
    firstAttemptAt: delivery.firstAttemptAt,
    lastAttemptAt: consumer.clock.now(),
    transport: consumer.transport,
  };
}
