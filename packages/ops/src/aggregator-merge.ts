/**
 * Merging what several instances answered into one listing: sagas of several services newest
 * first with their counts summed, dead letters counted once when services share one store
 * (the embedded bus file), and traces whose spans were recorded by several processes joined
 * into one summary.
 */
import type { TraceSummary } from '@trellis/service';
import type { TargetReply } from './target-calls.js';

/** Sagas of every answering service, newest first, with the per-status counts summed. */
export function mergeSagas(answers: readonly TargetReply[], limit: number) {
  const items = answers.flatMap((a) =>
    (a.body.items as Array<{ createdAt: number }>).map((s) => ({ ...s, service: a.target.service })),
  );
  items.sort((a, b) => b.createdAt - a.createdAt);
  const counts: Record<string, number> = {};
  for (const a of answers)
    for (const [k, v] of Object.entries(a.body.counts as Record<string, number>))
      counts[k] = (counts[k] ?? 0) + v;
  return { items: items.slice(0, limit), counts };
}

/**
 * Dead letters of every answering service, newest first. Services that share one store list
 * the same dead letters: each is listed, and the store's total counted, once.
 */
export function mergeDeadLetters(answers: readonly TargetReply[]) {
  const seen = new Set<string>();
  const stores = new Set<string>();
  const items: Array<Record<string, unknown>> = [];
  let total = 0;
  for (const a of answers) {
    const list = a.body.items as Array<{ id: string }>;
    const fingerprint = list.map((d) => d.id).join(',');
    if (list.length > 0 && !stores.has(fingerprint)) total += a.body.total as number;
    stores.add(fingerprint);
    for (const d of list) {
      if (seen.has(d.id)) continue;
      seen.add(d.id);
      items.push({ ...d, service: a.target.service });
    }
  }
  items.sort((a, b) => (b.deadLetteredAt as number) - (a.deadLetteredAt as number));
  return { items, total };
}

/** Trace summaries of every instance joined by trace id, newest first. */
export function mergeTraces(answers: readonly TargetReply[], limit: number): TraceSummary[] {
  const merged = new Map<string, TraceSummary>();
  for (const a of answers) {
    for (const t of a.body.items as TraceSummary[]) {
      const m = merged.get(t.traceId);
      if (!m) {
        merged.set(t.traceId, { ...t, services: [...t.services] });
        continue;
      }
      const end = Math.max(m.startMs + m.durationMs, t.startMs + t.durationMs);
      if (t.startMs < m.startMs) {
        m.startMs = t.startMs;
        m.rootName = t.rootName;
      }
      m.durationMs = end - m.startMs;
      m.spanCount += t.spanCount;
      m.error ||= t.error;
      m.services = [...new Set([...m.services, ...t.services])];
    }
  }
  return [...merged.values()].sort((a, b) => b.startMs - a.startMs).slice(0, limit);
}
