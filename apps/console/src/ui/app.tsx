import { useEffect, useState } from 'react';
import { get, logout, token } from './api';
import { usePoll } from './hooks';
import { AlertBanner, AlertsPage } from './pages/alerts';
import { ChartsPage } from './pages/charts';
import { DeadLettersPage } from './pages/dead-letters';
import { EventsPage } from './pages/events';
import { LoginPage } from './pages/login';
import { SagasPage } from './pages/sagas';
import { ServicesPage } from './pages/services';
import { TracesPage } from './pages/traces';
import type { Overview } from './types';

const PAGES = [
  ['services', 'Services'],
  ['sagas', 'Sagas'],
  ['events', 'Events'],
  ['dead-letters', 'Dead letters'],
  ['traces', 'Traces'],
  ['charts', 'Charts'],
  ['alerts', 'Alerts'],
] as const;

/** `#/sagas/order-1` → ['sagas', 'order-1']. */
function parseHash(): [string, string | undefined] {
  const [page = 'services', ...rest] = location.hash.replace(/^#\/?/, '').split('/');
  return [page || 'services', rest.length ? decodeURIComponent(rest.join('/')) : undefined];
}

/** Navigates inside the console. */
export function go(page: string, arg?: string): void {
  location.hash = `#/${page}${arg ? `/${encodeURIComponent(arg)}` : ''}`;
}

export function App() {
  const [authed, setAuthed] = useState(token() !== null);
  const [[page, arg], setRoute] = useState(parseHash());
  useEffect(() => {
    const onHash = () => setRoute(parseHash());
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  if (!authed) return <LoginPage onLogin={() => setAuthed(true)} />;
  return (
    <Shell
      page={page}
      arg={arg}
      onLogout={() => {
        logout();
        setAuthed(false);
      }}
    />
  );
}

function Shell({ page, arg, onLogout }: { page: string; arg: string | undefined; onLogout: () => void }) {
  const overview = usePoll(() => get<Overview>('/overview'), 2000);
  useEffect(() => {
    if (overview.error && token() === null) onLogout();
  }, [overview.error, onLogout]);
  return (
    <div className="shell">
      <header>
        <h1>Trellis console</h1>
        <nav>
          {PAGES.map(([id, label]) => (
            <a key={id} href={`#/${id}`} className={page === id ? 'active' : ''} data-page={id}>
              {label}
              {id === 'alerts' && overview.data?.alerts.length ? (
                <span className="count">{overview.data.alerts.length}</span>
              ) : null}
            </a>
          ))}
        </nav>
        <button type="button" className="link" onClick={onLogout}>
          Log out
        </button>
      </header>
      <AlertBanner alerts={overview.data?.alerts ?? []} />
      {overview.error ? <div className="error">Ops API: {overview.error}</div> : null}
      <main>
        {page === 'services' && <ServicesPage overview={overview.data} />}
        {page === 'sagas' && <SagasPage selected={arg} />}
        {page === 'events' && <EventsPage aggregateId={arg} />}
        {page === 'dead-letters' && <DeadLettersPage selected={arg} />}
        {page === 'traces' && <TracesPage traceId={arg} />}
        {page === 'charts' && <ChartsPage />}
        {page === 'alerts' && <AlertsPage />}
      </main>
    </div>
  );
}
