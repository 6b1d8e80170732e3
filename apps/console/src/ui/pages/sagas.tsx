import { useState } from 'react';
import { get, send } from '../api';
import { go } from '../app';
import { fmtDuration, fmtTime, usePoll } from '../hooks';
import type { SagaRow, SagaTimeline } from '../types';

const STATUSES = ['', 'running', 'compensating', 'completed', 'compensated', 'failed'];

function Timeline({ id }: { id: string }) {
  const { data, error, reload } = usePoll(() => get<SagaTimeline>(`/sagas/${encodeURIComponent(id)}`), 3000, [
    id,
  ]);
  const [message, setMessage] = useState<string>();
  if (error) return <div className="error">{error}</div>;
  if (!data) return <p>Loading…</p>;
  const s = data.instance;
  const orderId = typeof s.context.orderId === 'string' ? s.context.orderId : undefined;
  const resume = async () => {
    try {
      await send('POST', `/sagas/${encodeURIComponent(id)}/resume`, { service: data.service });
      setMessage('Resumed');
      await reload();
    } catch (e) {
      setMessage((e as Error).message);
    }
  };
  return (
    <div className="panel saga-timeline" data-saga={s.id} data-status={s.status}>
      <h3>
        {s.name} <code>{s.id}</code> <span className={`badge saga-${s.status}`}>{s.status}</span>
      </h3>
      <p>
        started {fmtTime(s.createdAt)} · last change {fmtTime(s.updatedAt)} ·{' '}
        {fmtDuration(s.updatedAt - s.createdAt)}
        {s.recoveries ? ` · recovered ${s.recoveries}×` : ''}
        {s.error ? (
          <span className="error-text">
            {' '}
            · {s.error.step}: {s.error.code ?? ''} {s.error.message}
          </span>
        ) : null}
      </p>
      <p className="actions">
        {data.traceId ? <a href={`#/traces/${data.traceId}`}>Trace</a> : null}
        {orderId ? <a href={`#/events/${orderId}`}>Order {orderId}</a> : null}
        {s.status === 'failed' ? (
          <button type="button" onClick={resume}>
            Resume
          </button>
        ) : null}
        {message ? <span className="muted">{message}</span> : null}
      </p>
      <table className="steps">
        <thead>
          <tr>
            <th>step</th>
            <th>status</th>
            <th>attempts</th>
            <th>compensations</th>
            <th>duration</th>
            <th>errors</th>
          </tr>
        </thead>
        <tbody>
          {data.steps.map((st) => (
            <tr key={st.step} data-step={st.step} data-status={st.status}>
              <td>{st.step}</td>
              <td>
                <span className={`badge step-${st.status}`}>{st.status}</span>
              </td>
              <td className="num">{st.attempts}</td>
              <td className="num">{st.compensationAttempts}</td>
              <td className="num">{fmtDuration(st.durationMs)}</td>
              <td>
                {st.errors.map((e) => (
                  <div key={`${e.at}-${e.phase}`} className="error-text">
                    {e.phase}: {e.code ?? ''} {e.message}
                  </div>
                ))}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h4>Timeline</h4>
      <ol className="events">
        {data.events.map((e) => (
          <li key={e.seq} data-kind={e.kind}>
            <span className="muted">{fmtTime(e.at)}</span> {e.kind.replace(/_/g, ' ')}
            {e.step ? ` ${e.step}` : ''}
            {e.attempt ? ` (attempt ${e.attempt})` : ''}
            {e.durationMs !== null ? ` ${fmtDuration(e.durationMs)}` : ''}
            {e.error ? (
              <span className="error-text">
                {' '}
                {e.error.code ?? ''} {e.error.message}
              </span>
            ) : null}
            {e.note ? <span className="muted"> — {e.note}</span> : null}
          </li>
        ))}
      </ol>
    </div>
  );
}

export function SagasPage({ selected }: { selected: string | undefined }) {
  const [status, setStatus] = useState('');
  const [q, setQ] = useState('');
  const list = usePoll(
    () => get<{ items: SagaRow[]; counts: Record<string, number> }>('/sagas', { status, q, limit: 100 }),
    3000,
    [status, q],
  );
  return (
    <section className="split">
      <div>
        <h2>Sagas</h2>
        <div className="filters">
          <label>
            status{' '}
            <select name="status" value={status} onChange={(e) => setStatus(e.target.value)}>
              {STATUSES.map((s) => (
                <option key={s} value={s}>
                  {s ? `${s} (${list.data?.counts[s] ?? 0})` : 'any'}
                </option>
              ))}
            </select>
          </label>
          <label>
            id <input name="q" value={q} placeholder="order id…" onChange={(e) => setQ(e.target.value)} />
          </label>
        </div>
        {list.error ? <div className="error">{list.error}</div> : null}
        <table className="sagas">
          <thead>
            <tr>
              <th>id</th>
              <th>saga</th>
              <th>status</th>
              <th>started</th>
              <th>error</th>
            </tr>
          </thead>
          <tbody>
            {(list.data?.items ?? []).map((s) => (
              <tr
                key={s.id}
                data-saga={s.id}
                data-status={s.status}
                className={s.id === selected ? 'selected' : ''}
                onClick={() => go('sagas', s.id)}
              >
                <td>
                  <a href={`#/sagas/${encodeURIComponent(s.id)}`}>{s.id}</a>
                </td>
                <td>{s.name}</td>
                <td>
                  <span className={`badge saga-${s.status}`}>{s.status}</span>
                </td>
                <td>{fmtTime(s.createdAt)}</td>
                <td className="error-text">
                  {s.error ? `${s.error.step ?? ''} ${s.error.code ?? s.error.message}` : ''}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div>
        {selected ? <Timeline id={selected} /> : <p className="muted">Pick a saga to see its timeline.</p>}
      </div>
    </section>
  );
}
