import { get } from '../api';
import { fmtDuration, fmtTime, usePoll } from '../hooks';
import type { Alert } from '../types';

/** The banner on every page while alerts fire. */
export function AlertBanner({ alerts }: { alerts: Alert[] }) {
  const firing = alerts.filter((a) => a.state === 'firing');
  if (firing.length === 0) return null;
  return (
    <a
      className={`banner ${firing.some((a) => a.severity === 'critical') ? 'critical' : 'warning'}`}
      href="#/alerts"
    >
      {firing.length} alert{firing.length > 1 ? 's' : ''} firing:{' '}
      {firing.map((a) => a.annotations.summary).join(' · ')}
    </a>
  );
}

function AlertRow({ a }: { a: Alert }) {
  return (
    <tr data-alert={a.name} data-state={a.state}>
      <td>
        <span className={`badge alert-${a.state}`}>{a.resolvedAt ? 'resolved' : a.state}</span>
      </td>
      <td>
        <span className={`badge sev-${a.severity}`}>{a.severity}</span>
      </td>
      <td>
        <strong>{a.name}</strong>
        <div>{a.annotations.summary}</div>
        <div className="muted">{a.annotations.description}</div>
      </td>
      <td>{fmtTime(a.activeAt)}</td>
      <td>{a.resolvedAt ? fmtTime(a.resolvedAt) : ''}</td>
    </tr>
  );
}

/** `{{ $labels.service }}` → `‹service›`: a rule's summary before any alert fills it in. */
function readable(template: string): string {
  return template.replace(/\{\{\s*\$labels\.(\w+)\s*\}\}/g, '‹$1›');
}

export function AlertsPage() {
  const { data, error } = usePoll(
    () =>
      get<{
        active: Alert[];
        resolved: Alert[];
        rules: Array<{ name: string; severity: string; forMs: number; summary: string }>;
      }>('/alerts'),
    3000,
  );
  return (
    <section>
      <h2>Alerts</h2>
      {error ? <div className="error">{error}</div> : null}
      <table className="alerts">
        <thead>
          <tr>
            <th>state</th>
            <th>severity</th>
            <th>alert</th>
            <th>since</th>
            <th>resolved</th>
          </tr>
        </thead>
        <tbody>
          {[...(data?.active ?? []), ...(data?.resolved ?? [])].map((a) => (
            <AlertRow key={`${a.id}-${a.resolvedAt ?? 'active'}`} a={a} />
          ))}
          {data && data.active.length + data.resolved.length === 0 ? (
            <tr>
              <td colSpan={5} className="muted empty">
                All quiet.
              </td>
            </tr>
          ) : null}
        </tbody>
      </table>
      <h3>Rules</h3>
      <ul className="rules">
        {(data?.rules ?? []).map((r) => (
          <li key={r.name}>
            <strong>{r.name}</strong> <span className={`badge sev-${r.severity}`}>{r.severity}</span>{' '}
            {r.forMs > 0 ? `after ${fmtDuration(r.forMs)}` : 'at once'}: {readable(r.summary)}
          </li>
        ))}
      </ul>
    </section>
  );
}
