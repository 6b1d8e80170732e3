import { useCallback, useEffect, useRef, useState } from 'react';

/** Loads `load()` now and every `intervalMs` (0: once); `reload` runs it again at once. */
export function usePoll<T>(load: () => Promise<T>, intervalMs: number, deps: unknown[] = []) {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const loadRef = useRef(load);
  loadRef.current = load;
  const reload = useCallback(async () => {
    try {
      setData(await loadRef.current());
      setError(undefined);
    } catch (e) {
      setError((e as Error).message);
    }
  }, []);
  useEffect(() => {
    let stop = false;
    void reload();
    if (intervalMs <= 0) return;
    const timer = setInterval(() => {
      if (!stop) void reload();
    }, intervalMs);
    return () => {
      stop = true;
      clearInterval(timer);
    };
  }, [reload, intervalMs, ...deps]);
  return { data, error, reload };
}

export function fmtDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '–';
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 120) return `${s.toFixed(1)} s`;
  const m = s / 60;
  if (m < 120) return `${Math.floor(m)} min ${Math.round(s % 60)} s`;
  return `${Math.floor(m / 60)} h ${Math.round(m % 60)} min`;
}

export function fmtTime(at: number | string): string {
  return new Date(at).toLocaleTimeString();
}
