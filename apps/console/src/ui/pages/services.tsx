import { fmtDuration, fmtTime } from '../hooks';
import type { Breaker, Instance, Overview } from '../types';

function StateBadge({ state }: { state: string }) {
  return (
    <span className={`badge state-${state.toLowerCase()}`}>{state.replace('_', '-').toLowerCase()}</span>
  );
}

function BreakerRow({ b }: { b: Breaker }) {
  return (
    <li className="breaker" data-breaker={b.name} data-state={b.state}>
      <strong>{b.name}</strong> <StateBadge state={b.state} />
      <span className="muted">
        {' '}
        ok {b.successes} · failed {b.failures} · rejected {b.rejections}
      </span>
      {b.transitions.length > 0 ? (
        <ol className="transitions">
          {b.transitions
            .slice(-5)
            .reverse()
            .map((t) => (
              <li key={`${t.at}-${t.to}`}>
                {fmtTime(t.at)} {t.from.toLowerCase()} → {t.to.toLowerCase()}{' '}
                <span className="muted">({t.reason})</span>
              </li>
            ))}
        </ol>
      ) : null}
    </li>
  );
}

function InstanceRow({ i }: { i: Instance }) {
  const health = !i.up ? 'down' : (i.info?.health.status ?? 'unknown');
  const failing = Object.entries(i.info?.health.checks ?? {}).filter(([, c]) => !c.ok);
  return (
    <tr data-instance={i.id} data-health={health}>
      <td>{i.service}</td>
      <td>{i.id}</td>
      <td>
        <span className={`badge health-${health}`}>{health}</span>
        {failing.map(([name, c]) => (
          <div key={name} className="muted">
            {name}: {c.error}
          </div>
        ))}
        {i.error ? <div className="muted">{i.error}</div> : null}
      </td>
      <td>{i.info ? fmtDuration(i.info.uptimeMs) : '–'}</td>
      <td className="num">{i.red ? i.red.requestsPerSecond.toFixed(2) : '–'}</td>
      <td className="num">{i.red ? `${(i.red.errorRatio * 100).toFixed(1)} %` : '–'}</td>
      <td className="num">
        {i.red?.p99Ms !== null && i.red?.p99Ms !== undefined ? `${i.red.p99Ms.toFixed(1)} ms` : '–'}
      </td>
      <td>
        {i.breakers.length === 0 ? (
          <span className="muted">none</span>
        ) : (
          <ul className="breakers">
            {i.breakers.map((b) => (
              <BreakerRow key={b.name} b={b} />
            ))}
          </ul>
        )}
      </td>
    </tr>
  );
}

export function ServicesPage({ overview }: { overview: Overview | undefined }) {
  if (!overview) return <p>Loading…</p>;
  const healthy = overview.instances.filter((i) => i.up && i.info?.health.status === 'ready').length;
  return (
    <section>
      <h2>
        Services{' '}
        <span className="muted">
          {healthy} of {overview.instances.length} instances healthy
        </span>
      </h2>
      <table className="services">
        <thead>
          <tr>
            <th>service</th>
            <th>instance</th>
            <th>health</th>
            <th>uptime</th>
            <th>req/s</th>
            <th>errors</th>
            <th>p99</th>
            <th>circuit breakers</th>
          </tr>
        </thead>
        <tbody>
          {overview.instances.map((i) => (
            <InstanceRow key={i.id} i={i} />
          ))}
        </tbody>
      </table>
      <p className="muted">
        Request rate, errors and p99 over the last minute (probes and scrapes left out).
      </p>
    </section>
  );
}
