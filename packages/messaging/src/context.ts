import { AsyncLocalStorage } from 'node:async_hooks';
import type { Message, MessageHeaders } from './message.js';

/**
 * The message being handled, carried through the handler's async calls. Publishing (or
 * writing to the outbox) from inside a handler inherits its correlation id and trace
 * context and records the handled message as the cause, so a choreography chain
 * (`order.created` → `payment.requested` → …) stays one traceable flow without any code.
 */
const current = new AsyncLocalStorage<Message>();

/** Runs `fn` with `message` as the current message. */
export function runWithMessage<T>(message: Message, fn: () => T): T {
  return current.run(message, fn);
}

/** The message whose handler is running in this async context, if any. */
export function currentMessage(): Message | undefined {
  return current.getStore();
}

/**
 * The headers a message published now should carry: inherited from the message being
 * handled (correlation id, trace context, causation), then `provided` (e.g. the service's
 * active span), then `explicit` (the publisher's own), later ones winning.
 */
export function outgoingHeaders(
  explicit: MessageHeaders | undefined,
  provided?: MessageHeaders | undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  const parent = current.getStore();
  if (parent) {
    out.correlationId = parent.headers.correlationId ?? parent.id;
    out.causationId = parent.id;
    if (parent.headers.traceparent) out.traceparent = parent.headers.traceparent;
    if (parent.headers.tracestate) out.tracestate = parent.headers.tracestate;
  }
  copy(out, provided);
  copy(out, explicit);
  return out;
}

function copy(into: Record<string, string>, from: MessageHeaders | undefined): void {
  if (!from) return;
  for (const [k, v] of Object.entries(from)) if (typeof v === 'string') into[k] = v;
}

/** Runs `fn` outside any message context (background loops must not inherit a handler's). */
export function outsideMessage<T>(fn: () => T): T {
  return current.exit(fn);
}
