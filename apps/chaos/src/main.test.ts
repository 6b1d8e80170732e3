import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { EXPERIMENTS } from './experiments/catalogue.js';

const run = promisify(execFile);
const main = fileURLToPath(new URL('./main.ts', import.meta.url));
const cli = (...args: string[]) =>
  run(process.execPath, ['--conditions=source', '--import', import.meta.resolve('tsx'), main, ...args]).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => e,
  );

describe('npm run chaos (the command line)', () => {
  it('lists every experiment', { timeout: 60_000 }, async () => {
    const { code, stdout } = await cli('--list');
    expect(code).toBe(0);
    expect(stdout.trim().split('\n')).toHaveLength(EXPERIMENTS.length);
    expect(stdout).toContain('partition-orders-1-db');
  });

  it('exits 64 naming a bad option, and for unknown experiments, before starting anything', {
    timeout: 60_000,
  }, async () => {
    const bad = await cli('--concurrency', 'many');
    expect(bad.code).toBe(64);
    expect(bad.stderr).toContain('concurrency');
    const unknown = await cli('--experiments', 'kill-everything');
    expect(unknown.code).toBe(64);
    expect(unknown.stderr).toContain('Unknown experiments: kill-everything');
  });
});
