import { type Clock, uuidv7, ValidationError } from '@trellis/core';
import type { HeaderProvider } from './bus.js';
import { outgoingHeaders } from './context.js';
import type { OutgoingMessage, PublishedMessage } from './message.js';
import { assertPayload, type TopicSchemas, toJson } from './schemas.js';
import { assertGroup, assertTopic } from './topics.js';

/** A message validated, stamped and serialised, ready for a transport to store. */
export interface PreparedMessage {
  id: string;
  topic: string;
  key: string | undefined;
  headers: Record<string, string>;
  /** The payload as JSON text. */
  payload: string;
  publishedAt: number;
  /** Deliver only to this group (dead-letter replay). */
  group: string | undefined;
}

/** What every transport needs to prepare messages the same way. */
export interface PrepareContext {
  clock: Clock;
  schemas?: TopicSchemas | undefined;
  headers?: HeaderProvider | undefined;
}

const MAX_KEY_LENGTH = 256;

/**
 * Validates and stamps an outgoing message: topic syntax, key, the topic's payload schema,
 * JSON serialisability; fills id, timestamp and propagated headers. Throws `ValidationError`
 * naming the bad field; nothing has been sent when it throws.
 */
export function prepareMessage(message: OutgoingMessage, ctx: PrepareContext): PreparedMessage {
  assertTopic(message.topic);
  const { key, id, group } = message;
  if (key !== undefined && (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH)) {
    throw new ValidationError(`Invalid key: must be 1–${MAX_KEY_LENGTH} characters`, [
      { path: 'key', message: `must be 1–${MAX_KEY_LENGTH} characters` },
    ]);
  }
  if (id !== undefined && (typeof id !== 'string' || id.length === 0 || id.length > 200)) {
    throw new ValidationError('Invalid id: must be 1–200 characters', [
      { path: 'id', message: 'must be 1–200 characters' },
    ]);
  }
  if (group !== undefined) assertGroup(group);
  assertPayload(ctx.schemas, message.topic, message.payload);
  const headers = outgoingHeaders(message.headers, ctx.headers?.());
  assertHeaders(headers);
  const now = ctx.clock.now();
  return {
    id: id ?? uuidv7(now),
    topic: message.topic,
    key,
    headers,
    payload: toJson(message.payload),
    publishedAt: message.publishedAt ?? now,
    group,
  };
}

const HEADER_NAME = /^[A-Za-z0-9_-]{1,100}$/;

/** Header names are tokens and values single lines, so every transport can carry them. */
function assertHeaders(headers: Record<string, string>): void {
  for (const [name, value] of Object.entries(headers)) {
    if (!HEADER_NAME.test(name)) {
      throw new ValidationError(`Invalid header name "${name}": must be 1–100 characters of [A-Za-z0-9_-]`, [
        { path: `headers.${name}`, message: 'must be 1–100 characters of [A-Za-z0-9_-]' },
      ]);
    }
    if (/[\r\n]/.test(value) || value.length > 4096) {
      throw new ValidationError(`Invalid header "${name}": must be one line of at most 4096 characters`, [
        { path: `headers.${name}`, message: 'must be one line of at most 4096 characters' },
      ]);
    }
  }
}

/** The public view of a prepared message. */
export function published(p: PreparedMessage): PublishedMessage {
  return { id: p.id, topic: p.topic, key: p.key, headers: p.headers, publishedAt: p.publishedAt };
}
