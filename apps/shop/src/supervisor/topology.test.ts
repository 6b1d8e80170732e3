import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadOrCreateSecrets, secretsFile } from './secrets.js';
import { planTopology, readTopology, upstreamsOf, writeTopology } from './topology.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'trellis-topology-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('topology', () => {
  it('plans the default ports, replicas 100 apart, and the reserved assistant slot', async () => {
    const t = await planTopology({ mode: 'embedded', dataDir: dir, replicas: { orders: 2 } });
    expect(t.gatewayUrl).toBe('http://127.0.0.1:8080');
    expect(t.instances.filter((i) => i.service === 'orders').map((i) => i.port)).toEqual([3004, 3104]);
    expect(t.databases.orders).toEqual({ kind: 'sqlite', file: join(dir, 'orders.db') });
    expect(t.bus).toEqual({ kind: 'sqlite', file: join(dir, 'bus.db') });
    expect(upstreamsOf(t).assistant).toEqual(['http://127.0.0.1:3008']);
  });

  it('picks free ports when asked, and round-trips through topology.json', async () => {
    const t = await planTopology({ mode: 'embedded', dataDir: dir, gatewayPort: 0, portBase: 0 });
    expect(new Set(t.instances.map((i) => i.port)).size).toBe(t.instances.length);
    writeTopology(t);
    expect(readTopology(dir)).toEqual(t);
  });

  it('needs infrastructure in distributed mode', async () => {
    await expect(planTopology({ mode: 'distributed', dataDir: dir })).rejects.toThrow('PostgreSQL');
  });

  it('says clearly when no shop ran in a directory', () => {
    expect(() => readTopology(dir)).toThrow('npm start');
  });
});

describe('secrets', () => {
  it('are created once, private, and stable across restarts', () => {
    const first = loadOrCreateSecrets(dir, {});
    expect(first.jwtSecret.length).toBeGreaterThanOrEqual(32);
    expect(first.demo.alice).toMatch(/^[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}$/);
    expect(statSync(secretsFile(dir)).mode & 0o777).toBe(0o600);
    expect(loadOrCreateSecrets(dir, {})).toEqual(first);
  });

  it('let the environment override the token secrets', () => {
    const s = loadOrCreateSecrets(dir, { JWT_SECRET: 'e'.repeat(40) });
    expect(s.jwtSecret).toBe('e'.repeat(40));
    expect(JSON.parse(readFileSync(secretsFile(dir), 'utf8')).jwtSecret).not.toBe(s.jwtSecret);
  });

  it('refuse a malformed file instead of silently replacing it', () => {
    writeFileSync(secretsFile(dir), '{"jwtSecret":"short"}');
    expect(() => loadOrCreateSecrets(dir, {})).toThrow('malformed');
  });
});
