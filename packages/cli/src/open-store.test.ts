import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteDatabase } from '@trellis/sqlite';
import { afterAll, describe, expect, it } from 'vitest';
import { captureIO } from './command.js';
import { main } from './main.js';
import { redact } from './open-store.js';

const dir = mkdtempSync(join(tmpdir(), 'trellis-cli-open-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('opening a target', () => {
  it.each([
    ['dead-letters', 'count', 'has no Trellis dead letters (table trellis_dead_letters)'],
    ['sagas', 'counts', 'has no Trellis sagas (table trellis_sagas)'],
  ])(
    '%s refuses a SQLite file without its table, and creates nothing in it',
    async (cmd, action, message) => {
      const file = join(dir, `${cmd}.db`);
      const db = SqliteDatabase.open(file);
      await db.execute('CREATE TABLE unrelated (id INTEGER)');
      await db.close();
      const io = captureIO();
      expect(await main([cmd, action, '--db', file], io)).toBe(1);
      expect(io.err).toBe(`trellis ${cmd}: ${file} ${message}\n`);
      const after = SqliteDatabase.open(file);
      const tables = await after.query<{ name: string }>(
        "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
      );
      expect(tables.map((t) => t.name)).toEqual(['unrelated']);
      await after.close();
    },
  );

  it('hides the password of a connection URL', () => {
    expect(redact('postgres://app:s3cr:et@db.local:5432/orders')).toBe(
      'postgres://app:***@db.local:5432/orders',
    );
    expect(redact('postgresql://app@db.local/orders')).toBe('postgresql://app@db.local/orders');
    expect(redact('./data/bus.db')).toBe('./data/bus.db');
  });
});
