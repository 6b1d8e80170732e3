import { ValidationError } from '@trellis/core';

/**
 * Topic and pattern syntax, shared by every transport so that a pattern means the same on the
 * in-memory bus, on SQLite and on NATS: dot-separated tokens of `[A-Za-z0-9_-]`; in patterns
 * `*` matches exactly one token and `>` (last token only) matches one or more.
 */

const TOKEN = /^[A-Za-z0-9_-]+$/;
const MAX_LENGTH = 200;

/** Topics already checked (publishers use a handful of topics, over and over). */
const validTopics = new Set<string>();

/** Throws a {@link ValidationError} naming `field` unless `topic` is a valid concrete topic. */
export function assertTopic(topic: string, field = 'topic'): void {
  if (validTopics.has(topic)) return;
  if (typeof topic !== 'string' || topic.length === 0 || topic.length > MAX_LENGTH) {
    throw invalid(field, `must be 1–${MAX_LENGTH} characters`);
  }
  for (const token of topic.split('.')) {
    if (!TOKEN.test(token)) throw invalid(field, `token "${token}" must match [A-Za-z0-9_-]+`);
  }
  if (validTopics.size > 10_000) validTopics.clear();
  validTopics.add(topic);
}

/** Throws a {@link ValidationError} unless `pattern` is a valid subscription pattern. */
export function assertPattern(pattern: string, field = 'pattern'): void {
  if (typeof pattern !== 'string' || pattern.length === 0 || pattern.length > MAX_LENGTH) {
    throw invalid(field, `must be 1–${MAX_LENGTH} characters`);
  }
  const tokens = pattern.split('.');
  tokens.forEach((token, i) => {
    if (token === '*') return;
    if (token === '>') {
      if (i !== tokens.length - 1) throw invalid(field, '">" may only be the last token');
      return;
    }
    if (!TOKEN.test(token)) throw invalid(field, `token "${token}" must match [A-Za-z0-9_-]+, "*" or ">"`);
  });
}

/** Throws a {@link ValidationError} unless `group` is a valid consumer group name. */
export function assertGroup(group: string, field = 'group'): void {
  if (typeof group !== 'string' || !TOKEN.test(group) || group.length > 100) {
    throw invalid(field, 'must be 1–100 characters of [A-Za-z0-9_-]');
  }
}

/** True when `topic` matches `pattern` (`*` one token, trailing `>` one or more). */
export function topicMatches(pattern: string, topic: string): boolean {
  if (pattern === topic) return true;
  const p = pattern.split('.');
  const t = topic.split('.');
  for (let i = 0; i < p.length; i++) {
    const token = p[i];
    if (token === '>') return t.length > i;
    if (i >= t.length) return false;
    if (token !== '*' && token !== t[i]) return false;
  }
  return p.length === t.length;
}

function invalid(field: string, message: string): ValidationError {
  return new ValidationError(`Invalid ${field}: ${message}`, [{ path: field, message }]);
}
