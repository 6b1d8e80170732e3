import { describe, expect, it } from 'vitest';
import { assertGroup, assertPattern, assertTopic, topicMatches } from './topics.js';

describe('topics and patterns', () => {
  it.each([
    ['order.created', 'order.created', true],
    ['order.*', 'order.created', true],
    ['order.*', 'order.item.added', false],
    ['order.>', 'order.item.added', true],
    ['order.>', 'order', false],
    ['*.created', 'payment.created', true],
    ['*', 'order', true],
    ['*', 'order.created', false],
    ['>', 'anything.at.all', true],
    ['order.*.added', 'order.item.added', true],
    ['order.created', 'order.created.v2', false],
  ])('%s matches %s: %s', (pattern, topic, expected) => {
    expect(topicMatches(pattern, topic)).toBe(expected);
  });

  it('rejects malformed topics, patterns and groups with a ValidationError naming the field', () => {
    for (const bad of ['', 'a..b', 'a b', 'order.*', 'x'.repeat(201), 'é.t']) {
      expect(() => assertTopic(bad)).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    }
    expect(() => assertPattern('order.>.x')).toThrow('">" may only be the last token');
    expect(() => assertPattern('a.b*')).toThrow(/token "b\*"/);
    expect(() => assertGroup('bad group')).toThrow(
      expect.objectContaining({ issues: [expect.objectContaining({ path: 'group' })] }),
    );
    expect(() => assertTopic('order.created')).not.toThrow();
    expect(() => assertTopic('order.created')).not.toThrow(); // cached path
    expect(() => assertPattern('order.*.>')).not.toThrow();
  });
});
