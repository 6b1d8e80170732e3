import { createHash } from 'node:crypto';

/**
 * How Trellis lays out one JetStream stream (see the package README):
 *
 * - `<prefix>.m.p<i>.<topic>`: a message with a key, in partition `i = fnv1a(key) mod N`;
 * - `<prefix>.m.u.<topic>`: a message without a key;
 * - `<prefix>.g.<group>.<topic>`: a message addressed to one group (dead-letter replay).
 *
 * Each subscription (group + pattern) gets one durable consumer per partition with
 * `max_ack_pending = 1`, which serialises a partition across every member of the group and
 * across redeliveries: per-key order holds even with competing consumers in several
 * processes. Unkeyed and addressed messages have their own consumers without that limit.
 */
export interface SubjectLayout {
  prefix: string;
  partitions: number;
}

/** FNV-1a (32 bit): a stable, language-independent hash, so every publisher agrees on partitions. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The subject a message is published on. */
export function subjectFor(
  layout: SubjectLayout,
  topic: string,
  key: string | undefined,
  group?: string,
): string {
  if (group !== undefined) return `${layout.prefix}.g.${group}.${topic}`;
  if (key === undefined) return `${layout.prefix}.m.u.${topic}`;
  return `${layout.prefix}.m.p${fnv1a(key) % layout.partitions}.${topic}`;
}

/** The topic of a subject published by {@link subjectFor}. */
export function topicOf(layout: SubjectLayout, subject: string): string {
  const rest = subject.slice(layout.prefix.length + 1);
  // m.p3.<topic> | m.u.<topic> | g.<group>.<topic>: the topic starts after the third dot-token
  const first = rest.indexOf('.');
  const second = rest.indexOf('.', first + 1);
  return rest.slice(second + 1);
}

/** One JetStream consumer backing part of a subscription. */
export interface ConsumerSpec {
  /** Durable name. */
  name: string;
  filter: string;
  /** `keyed` consumers are serialised (max_ack_pending 1). */
  kind: 'keyed' | 'unkeyed' | 'group';
}

/** The consumers of (group, pattern). */
export function consumersFor(layout: SubjectLayout, group: string, pattern: string): ConsumerSpec[] {
  // Durable names cannot contain dots or wildcards; a hash of the pattern keeps them unique.
  const base = `${group}_${createHash('sha1').update(pattern).digest('hex').slice(0, 12)}`;
  const specs: ConsumerSpec[] = [];
  for (let i = 0; i < layout.partitions; i++) {
    specs.push({ name: `${base}_p${i}`, filter: `${layout.prefix}.m.p${i}.${pattern}`, kind: 'keyed' });
  }
  specs.push({ name: `${base}_u`, filter: `${layout.prefix}.m.u.${pattern}`, kind: 'unkeyed' });
  specs.push({ name: `${base}_g`, filter: `${layout.prefix}.g.${group}.${pattern}`, kind: 'group' });
  return specs;
}
