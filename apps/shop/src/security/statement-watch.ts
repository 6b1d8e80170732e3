/**
 * Watches every statement PostgreSQL runs, from the outside: samples `pg_stat_activity` (all
 * databases of the server, running and the last statement of each idle connection) and
 * keeps each statement text that matches a marker. A parameterised query shows `$1` there,
 * never the value bound to it, so an injection payload's marker (`pg_sleep`, `DROP TABLE`, a
 * marker table) appears in a statement's text only if someone built SQL out of input. No
 * timing is measured: the check is on what ran, not how long it took.
 */
import { PostgresDatabase } from '@trellis/postgres';

/** A statement seen with a marker in it. */
export interface SeenStatement {
  database: string;
  query: string;
}

/** A running watch. */
export interface StatementWatch {
  /** Stops sampling; resolves with every matching statement seen and the number of samples. */
  stop(): Promise<{ seen: SeenStatement[]; samples: number }>;
}

/**
 * Starts sampling the server at `serverUrl` for statements matching any of `markers`.
 *
 * Throws when the server cannot be reached (the first sample runs before this resolves).
 *
 * @example
 * ```ts
 * const watch = await watchStatements(postgresUrl, [/pg_sleep/i]);
 * // … send the payloads …
 * expect((await watch.stop()).seen).toEqual([]);
 * ```
 */
export async function watchStatements(
  serverUrl: string,
  markers: readonly RegExp[],
  intervalMs = 20,
): Promise<StatementWatch> {
  const db = PostgresDatabase.connect(serverUrl, { max: 1, applicationName: 'shop-statement-watch' });
  const seen = new Map<string, SeenStatement>();
  let samples = 0;
  let stopped = false;
  const sample = async () => {
    const rows = await db.query<{ datname: string | null; query: string | null }>(
      "SELECT datname, query FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND coalesce(application_name, '') <> 'shop-security-snapshot'",
    );
    samples++;
    for (const r of rows) {
      const query = r.query ?? '';
      if (markers.some((m) => m.test(query)))
        seen.set(`${r.datname}\n${query}`, { database: r.datname ?? '', query });
    }
  };
  await sample();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const loop = () => {
    if (stopped) return;
    running = sample()
      .catch(() => undefined)
      .finally(() => {
        if (!stopped) timer = setTimeout(loop, intervalMs);
      });
  };
  loop();
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
      await db.close();
      return { seen: [...seen.values()], samples };
    },
  };
}
