import { existsSync, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** The real servers the harness can start. */
export type ServerKind = 'postgres' | 'nats' | 'redis';

/** What a user runs to get a missing server on a Debian machine of this kind. */
export const INSTALL_HINT: Record<ServerKind, string> = {
  postgres: 'apt-get install -y postgresql-15 (binaries expected in /usr/lib/postgresql/15/bin)',
  nats: 'apt-get update && apt-get install -y nats-server',
  redis: 'apt-get update && apt-get install -y redis-server',
};

/** Finds an executable on PATH or in the extra directories, or returns undefined. */
export function findExecutable(name: string, extraDirs: string[] = []): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), ...extraDirs, '/usr/sbin', '/usr/local/sbin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** Directories holding PostgreSQL server binaries, newest major version first. */
export function postgresBinDirs(): string[] {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .filter((v) => /^\d+$/.test(v))
    .sort((a, b) => Number(b) - Number(a))
    .map((v) => join(root, v, 'bin'))
    .filter((d) => existsSync(join(d, 'postgres')));
}

/** The executable that starts each kind of server, if present on this machine. */
export function serverBinary(kind: ServerKind): string | undefined {
  switch (kind) {
    case 'postgres':
      return findExecutable('postgres', postgresBinDirs());
    case 'nats':
      return findExecutable('nats-server');
    case 'redis':
      return findExecutable('redis-server');
  }
}
