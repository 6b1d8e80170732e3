import { type FormEvent, useState } from 'react';
import { get } from '../api';
import { go } from '../app';
import { fmtDuration, fmtTime, usePoll } from '../hooks';
import type { Span, TraceSummary } from '../types';

const COLORS = ['#3b82f6', '#10b981', '#f59e0b', '#8b5cf6', '#ef4444', '#14b8a6', '#ec4899', '#64748b'];

/** Spans in tree order with their depth (children under parents, siblings by start). */
export function layout(spans: Span[]): Array<{ span: Span; depth: number }> {
  const ids = new Set(spans.map((s) => s.spanId));
  const children = new Map<string, Span[]>();
  const roots: Span[] = [];
  for (const s of [...spans].sort((a, b) => a.startMs - b.startMs)) {
    if (s.parentSpanId && ids.has(s.parentSpanId))
      children.set(s.parentSpanId, [...(children.get(s.parentSpanId) ?? []), s]);
    else roots.push(s);
  }
  const out: Array<{ span: Span; depth: number }> = [];
  const walk = (s: Span, depth: number) => {
    out.push({ span: s, depth });
    for (const c of children.get(s.spanId) ?? []) walk(c, depth + 1);
  };
  for (const r of roots) walk(r, 0);
  return out;
}

function Waterfall({ traceId }: { traceId: string }) {
  // Spans keep arriving while consumers and saga steps finish: reload until the trace is quiet.
  const { data, error } = usePoll(() => get<{ spans: Span[] }>(`/traces/${traceId}`), 3000, [traceId]);
  const [open, setOpen] = useState<string>();
  if (error) return <div className="error">{error}</div>;
  if (!data) return <p>Loading…</p>;
  if (data.spans.length === 0)
    return <p className="muted">No spans recorded for this trace (evicted, or never sampled).</p>;
  const start = Math.min(...data.spans.map((s) => s.startMs));
  const end = Math.max(...data.spans.map((s) => s.startMs + s.durationMs));
  const total = Math.max(end - start, 0.001);
  const services = [...new Set(data.spans.map((s) => s.service))];
  const selected = data.spans.find((s) => s.spanId === open);
  return (
    <div className="panel waterfall" data-trace={traceId}>
      <h3>
        Trace <code>{traceId}</code>{' '}
        <span className="muted">
          {fmtDuration(total)} · {data.spans.length} spans
        </span>
      </h3>
      <p className="legend">
        {services.map((s, i) => (
          <span key={s}>
            <i style={{ background: COLORS[i % COLORS.length] }} /> {s}
          </span>
        ))}
      </p>
      {layout(data.spans).map(({ span, depth }) => (
        <div
          key={span.spanId}
          className={`span-row ${span.status === 'error' ? 'span-error' : ''} ${open === span.spanId ? 'selected' : ''}`}
          data-span={span.name}
          data-service={span.service}
          data-kind={span.kind}
          data-span-id={span.spanId}
          data-parent-id={span.parentSpanId ?? ''}
          data-depth={depth}
          title={JSON.stringify(span.attributes, null, 1)}
        >
          <button
            type="button"
            className="span-name"
            style={{ paddingLeft: `${depth * 14}px` }}
            onClick={() => setOpen(open === span.spanId ? undefined : span.spanId)}
          >
            <span className="muted">{span.service}</span> {span.name}
          </button>
          <div className="span-track">
            <div
              className="span-bar"
              style={{
                left: `${((span.startMs - start) / total) * 100}%`,
                width: `${Math.max((span.durationMs / total) * 100, 0.4)}%`,
                background: COLORS[services.indexOf(span.service) % COLORS.length],
              }}
            />
          </div>
          <div className="span-ms num">{fmtDuration(span.durationMs)}</div>
        </div>
      ))}
      {selected ? <SpanDetails span={selected} /> : null}
    </div>
  );
}

function SpanDetails({ span }: { span: Span }) {
  return (
    <div className="span-details" data-details={span.spanId}>
      <h4>
        {span.service} · {span.kind} · {span.name}{' '}
        <span className="muted">
          {fmtTime(span.startMs)} · {fmtDuration(span.durationMs)}
        </span>
      </h4>
      {span.statusMessage ? <p className="error-text">{span.statusMessage}</p> : null}
      <pre className="json">{JSON.stringify(span.attributes, null, 2)}</pre>
    </div>
  );
}

export function TracesPage({ traceId }: { traceId: string | undefined }) {
  const [q, setQ] = useState('');
  const [errorsOnly, setErrorsOnly] = useState(false);
  const list = usePoll(
    () =>
      get<{ items: TraceSummary[] }>('/traces', {
        limit: 50,
        q,
        errorsOnly: errorsOnly ? 'true' : undefined,
      }),
    traceId ? 0 : 5000,
    [q, errorsOnly, traceId],
  );
  const search = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    setQ(String(new FormData(e.currentTarget).get('q') ?? '').trim());
  };
  if (traceId)
    return (
      <section>
        <p className="actions">
          <button type="button" className="link" onClick={() => go('traces')}>
            All traces
          </button>
        </p>
        <Waterfall traceId={traceId} />
      </section>
    );
  return (
    <section>
      <h2>Traces</h2>
      <form className="filters" onSubmit={search}>
        <label>
          search <input name="q" placeholder="trace, correlation, saga or message id" />
        </label>
        <label>
          <input type="checkbox" checked={errorsOnly} onChange={(e) => setErrorsOnly(e.target.checked)} />{' '}
          errors only
        </label>
        <button type="submit">Search</button>
      </form>
      <table className="traces">
        <thead>
          <tr>
            <th>when</th>
            <th>root</th>
            <th>services</th>
            <th>spans</th>
            <th>duration</th>
          </tr>
        </thead>
        <tbody>
          {(list.data?.items ?? []).map((t) => (
            <tr key={t.traceId} className={t.error ? 'span-error' : ''}>
              <td>{fmtTime(t.startMs)}</td>
              <td>
                <a href={`#/traces/${t.traceId}`}>{t.rootName}</a>
              </td>
              <td>{t.services.join(', ')}</td>
              <td className="num">{t.spanCount}</td>
              <td className="num">{fmtDuration(t.durationMs)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
