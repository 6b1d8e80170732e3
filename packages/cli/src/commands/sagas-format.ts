/** Text output of `trellis sagas`: tables an operator can read at a glance. */
import type { SagaInstance, SagaStatus, SagaTimeline } from '@trellis/saga';

const iso = (ms: number) => (ms > 0 ? new Date(ms).toISOString() : '-');

function grid(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    `${cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd()}\n`;
  return line(head) + rows.map(line).join('');
}

/** `running 3 · compensating 0 · …` */
export function countsLine(counts: Record<SagaStatus, number>): string {
  return `${Object.entries(counts)
    .map(([s, n]) => `${s} ${n}`)
    .join(' · ')}\n`;
}

/** The instances as a table, newest first. */
export function instanceTable(list: SagaInstance[]): string {
  if (list.length === 0) return 'no sagas\n';
  return grid(
    ['ID', 'SAGA', 'STATUS', 'STEP', 'UPDATED', 'ERROR'],
    list.map((i) => [
      i.id,
      i.name,
      i.status === 'failed' ? `failed (was ${i.resumeStatus ?? '?'})` : i.status,
      i.error?.step ?? `#${i.step}`,
      iso(i.updatedAt),
      `${i.error?.code ? `${i.error.code}: ` : ''}${i.error?.message ?? ''}`.slice(0, 80),
    ]),
  );
}

/** One instance: state, per-step summary and the raw timeline. */
export function timelineText(t: SagaTimeline): string {
  const i = t.instance;
  const head = [
    `id:          ${i.id}`,
    `saga:        ${i.name}`,
    `status:      ${i.status}${i.resumeStatus ? ` (resume goes back to ${i.resumeStatus})` : ''}`,
    `step index:  ${i.step}`,
    `created:     ${iso(i.createdAt)}`,
    `updated:     ${iso(i.updatedAt)}`,
    `owner:       ${i.owner ?? '-'} (lease until ${iso(i.leaseUntil)}, recoveries ${i.recoveries}, version ${i.version})`,
    ...(i.error
      ? [
          `error:       ${i.error.step ? `[${i.error.step}] ` : ''}${i.error.code ? `${i.error.code}: ` : ''}${i.error.message}`,
        ]
      : []),
    ...(Object.keys(i.trace).length > 0 ? [`trace:       ${JSON.stringify(i.trace)}`] : []),
    `context:     ${JSON.stringify(i.context)}`,
    '',
  ].join('\n');
  const steps = grid(
    ['STEP', 'STATUS', 'ATTEMPTS', 'UNDO ATTEMPTS', 'DURATION', 'LAST ERROR'],
    t.steps.map((s) => [
      s.step,
      s.status,
      String(s.attempts),
      String(s.compensationAttempts),
      s.durationMs === null ? '-' : `${Math.round(s.durationMs)} ms`,
      (s.errors.at(-1)?.message ?? '').slice(0, 60),
    ]),
  );
  const events = grid(
    ['AT', 'EVENT', 'STEP', 'ATTEMPT', 'DURATION', 'NOTE / ERROR'],
    t.events.map((e) => [
      iso(e.at),
      e.kind,
      e.step ?? '',
      e.attempt === null ? '' : String(e.attempt),
      e.durationMs === null ? '' : `${Math.round(e.durationMs)} ms`,
      [e.note, e.error ? `${e.error.code ? `${e.error.code}: ` : ''}${e.error.message}` : null]
        .filter(Boolean)
        .join(' — ')
        .slice(0, 80),
    ]),
  );
  return `${head}\nsteps:\n${steps}\ntimeline:\n${events}`;
}
