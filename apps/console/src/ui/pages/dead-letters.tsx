import { useState } from 'react';
import { get, send } from '../api';
import { go } from '../app';
import { fmtTime, usePoll } from '../hooks';
import type { DeadLetter } from '../types';

interface FaultInstance {
  instance: string;
  service: string;
  groups: string[];
  armed: Array<{ group: string; mode: string; remaining?: number; injected: number }>;
}

function Faults() {
  const { data, reload } = usePoll(() => get<{ items: FaultInstance[] }>('/faults'), 5000);
  const groups = [...new Set((data?.items ?? []).flatMap((i) => i.groups))];
  const armed = new Set((data?.items ?? []).flatMap((i) => i.armed.map((a) => a.group)));
  const toggle = async (group: string) => {
    if (armed.has(group)) await send('DELETE', `/faults/${encodeURIComponent(group)}`);
    else await send('PUT', `/faults/${encodeURIComponent(group)}`, { mode: 'poison' });
    await reload();
  };
  if (groups.length === 0) return null;
  return (
    <details className="panel faults">
      <summary>Fault injection (chaos)</summary>
      <p className="muted">An armed consumer group fails every message it receives, which dead-letters it.</p>
      {groups.map((g) => (
        <label key={g} className="fault">
          <input type="checkbox" checked={armed.has(g)} onChange={() => void toggle(g)} data-fault={g} /> {g}
        </label>
      ))}
    </details>
  );
}

export function DeadLettersPage({ selected }: { selected: string | undefined }) {
  const [picked, setPicked] = useState<Set<string>>(new Set());
  const [message, setMessage] = useState<string>();
  const list = usePoll(
    () => get<{ items: DeadLetter[]; total: number }>('/dead-letters', { limit: 200 }),
    3000,
  );
  const items = list.data?.items ?? [];
  const current = items.find((d) => d.id === selected);
  const act = async (action: 'replay' | 'purge', chosen: DeadLetter[]) => {
    if (chosen.length === 0) return;
    if (action === 'purge' && !window.confirm(`Delete ${chosen.length} dead letter(s) for good?`)) return;
    const byService = new Map<string, string[]>();
    for (const d of chosen) byService.set(d.service, [...(byService.get(d.service) ?? []), d.id]);
    let n = 0;
    try {
      for (const [service, ids] of byService) {
        const r = await send<{ replayed?: number; purged?: number }>('POST', `/dead-letters/${action}`, {
          service,
          ids,
        });
        n += r.replayed ?? r.purged ?? 0;
      }
      setMessage(`${action === 'replay' ? 'Replayed' : 'Purged'} ${n}`);
    } catch (e) {
      setMessage((e as Error).message);
    }
    setPicked(new Set());
    if (selected) go('dead-letters');
    await list.reload();
  };
  const flip = (id: string) => {
    const next = new Set(picked);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setPicked(next);
  };
  return (
    <section>
      <h2>
        Dead letters <span className="muted">{list.data?.total ?? '…'}</span>
      </h2>
      <Faults />
      <p className="actions">
        <button
          type="button"
          disabled={picked.size === 0}
          onClick={() =>
            act(
              'replay',
              items.filter((d) => picked.has(d.id)),
            )
          }
        >
          Replay selected ({picked.size})
        </button>
        <button type="button" disabled={items.length === 0} onClick={() => act('replay', items)}>
          Replay all
        </button>
        <button
          type="button"
          className="danger"
          disabled={picked.size === 0}
          onClick={() =>
            act(
              'purge',
              items.filter((d) => picked.has(d.id)),
            )
          }
        >
          Purge selected
        </button>
        {message ? (
          <span className="muted" role="status">
            {message}
          </span>
        ) : null}
      </p>
      {list.error ? <div className="error">{list.error}</div> : null}
      <div className="split">
        <table className="dead-letters">
          <thead>
            <tr>
              <th />
              <th>when</th>
              <th>group</th>
              <th>topic</th>
              <th>reason</th>
              <th>error</th>
            </tr>
          </thead>
          <tbody>
            {items.map((d) => (
              <tr
                key={d.id}
                data-dead-letter={d.id}
                data-group={d.group}
                data-key={d.key ?? ''}
                data-topic={d.topic}
                className={d.id === selected ? 'selected' : ''}
              >
                <td>
                  <input
                    type="checkbox"
                    checked={picked.has(d.id)}
                    onChange={() => flip(d.id)}
                    aria-label={`select ${d.id}`}
                  />
                </td>
                <td>{fmtTime(d.deadLetteredAt)}</td>
                <td>{d.group}</td>
                <td>
                  <a href={`#/dead-letters/${encodeURIComponent(d.id)}`}>{d.topic}</a>
                </td>
                <td>{d.reason}</td>
                <td className="error-text">
                  {d.error.code ?? d.error.name}: {d.error.message}
                </td>
              </tr>
            ))}
            {items.length === 0 ? (
              <tr>
                <td colSpan={6} className="muted empty">
                  No dead letters.
                </td>
              </tr>
            ) : null}
          </tbody>
        </table>
        {current ? (
          <div className="panel inspect" data-inspect={current.id}>
            <h3>{current.topic}</h3>
            <p>
              message <code>{current.messageId}</code> · group {current.group} · {current.attempts} attempt(s)
              · {current.transport}
            </p>
            <p className="actions">
              <button type="button" onClick={() => act('replay', [current])}>
                Replay
              </button>
              {current.traceId ? <a href={`#/traces/${current.traceId}`}>Trace</a> : null}
              {current.headers.aggregateId ? (
                <a href={`#/events/${current.headers.aggregateId}`}>Stream</a>
              ) : null}
            </p>
            <h4>Error</h4>
            <pre className="json error-text">{`${current.error.name}${current.error.code ? ` ${current.error.code}` : ''}: ${current.error.message}\n${current.error.stack ?? ''}`}</pre>
            <h4>Payload</h4>
            <pre className="json">{JSON.stringify(current.payload, null, 2)}</pre>
            <h4>Headers</h4>
            <pre className="json">{JSON.stringify(current.headers, null, 2)}</pre>
          </div>
        ) : null}
      </div>
    </section>
  );
}
