import { type FormEvent, useState } from 'react';
import { get } from '../api';
import { go } from '../app';
import { fmtTime, usePoll } from '../hooks';
import type { StoredEvent } from '../types';

function Json({ value }: { value: unknown }) {
  return <pre className="json">{JSON.stringify(value, null, 2)}</pre>;
}

function Stream({ id }: { id: string }) {
  const stream = usePoll(
    () => get<{ version: number; items: StoredEvent[] }>(`/streams/${encodeURIComponent(id)}`),
    3000,
    [id],
  );
  const model = usePoll(
    () => get<{ row: unknown }>(`/read-models/orders/${encodeURIComponent(id)}`).catch(() => ({ row: null })),
    3000,
    [id],
  );
  const traceId = stream.data?.items.find((e) => e.traceId)?.traceId;
  return (
    <div className="split stream" data-stream={id}>
      <div>
        <h3>
          Stream <code>{id}</code> <span className="muted">version {stream.data?.version ?? '…'}</span>
        </h3>
        {stream.error ? <div className="error">{stream.error}</div> : null}
        <p className="actions">
          <a href={`#/sagas/order-${id}`}>Saga</a>
          {traceId ? <a href={`#/traces/${traceId}`}>Trace</a> : null}
        </p>
        <table>
          <thead>
            <tr>
              <th>v</th>
              <th>event</th>
              <th>at</th>
              <th>payload</th>
            </tr>
          </thead>
          <tbody>
            {(stream.data?.items ?? []).map((e) => (
              <tr key={e.id} data-version={e.version} data-event={e.eventType}>
                <td className="num">{e.version}</td>
                <td>{e.eventType}</td>
                <td>{fmtTime(e.timestamp)}</td>
                <td>
                  <Json value={e.payload} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div className="panel read-model">
        <h3>Read model</h3>
        {model.data?.row ? (
          <Json value={model.data.row} />
        ) : (
          <p className="muted">No read-model row (yet).</p>
        )}
      </div>
    </div>
  );
}

export function EventsPage({ aggregateId }: { aggregateId: string | undefined }) {
  const [before, setBefore] = useState<number | undefined>(undefined);
  const log = usePoll(
    () => get<{ head: number; items: StoredEvent[] }>('/events', { before, limit: 50 }),
    before ? 0 : 3000,
    [before],
  );
  const search = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const id = String(new FormData(e.currentTarget).get('aggregate') ?? '').trim();
    if (id) go('events', id);
  };
  return (
    <section>
      <h2>Events</h2>
      <form className="filters" onSubmit={search}>
        <label>
          aggregate <input name="aggregate" defaultValue={aggregateId ?? ''} placeholder="order id…" />
        </label>
        <button type="submit">Open stream</button>
        {aggregateId ? (
          <button type="button" className="link" onClick={() => go('events')}>
            Back to the log
          </button>
        ) : null}
      </form>
      {aggregateId ? (
        <Stream id={aggregateId} />
      ) : (
        <>
          <h3>
            Global log <span className="muted">head {log.data?.head ?? '…'}</span>
          </h3>
          {log.error ? <div className="error">{log.error}</div> : null}
          <table className="log">
            <thead>
              <tr>
                <th>position</th>
                <th>event</th>
                <th>aggregate</th>
                <th>v</th>
                <th>at</th>
              </tr>
            </thead>
            <tbody>
              {(log.data?.items ?? []).map((e) => (
                <tr key={e.id}>
                  <td className="num">{e.position}</td>
                  <td>{e.eventType}</td>
                  <td>
                    <a href={`#/events/${encodeURIComponent(e.aggregateId)}`}>{e.aggregateId}</a>
                  </td>
                  <td className="num">{e.version}</td>
                  <td>{fmtTime(e.timestamp)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <p className="actions">
            {before ? (
              <button type="button" onClick={() => setBefore(undefined)}>
                Newest
              </button>
            ) : null}
            {log.data && log.data.items.length > 0 ? (
              <button type="button" onClick={() => setBefore(log.data?.items.at(-1)?.position)}>
                Older
              </button>
            ) : null}
          </p>
        </>
      )}
    </section>
  );
}
