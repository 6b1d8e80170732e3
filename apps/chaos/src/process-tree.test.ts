import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { postmasterPid, processState, processTree, signalAll } from './process-tree.js';

describe('processTree', () => {
  it('finds a process and its grandchildren, and signals them all', async () => {
    // A real parent → child → grandchild chain, each sleeping.
    const script = `const { spawn } = require('node:child_process');
      const depth = Number(process.argv[1]);
      if (depth > 0) spawn(process.execPath, ['-e', require('node:fs').readFileSync(0, 'utf8') || '', String(depth - 1)], { stdio: ['pipe', 'ignore', 'ignore'] }).stdin.end(process.env.SCRIPT);
      setInterval(() => {}, 1000);`;
    const root = spawn(process.execPath, ['-e', script, '2'], {
      stdio: ['pipe', 'ignore', 'ignore'],
      env: { ...process.env, SCRIPT: script },
    });
    root.stdin.end(script);
    const pid = root.pid as number;
    let tree: number[] = [];
    for (let i = 0; i < 100 && tree.length < 3; i++) {
      await new Promise((r) => setTimeout(r, 50));
      tree = processTree(pid);
    }
    expect(tree[0]).toBe(pid);
    expect(tree.length).toBe(3);
    expect(processTree(process.pid)).toContain(pid);
    const exited = new Promise((r) => root.once('exit', r));
    expect(signalAll(tree, 'SIGKILL')).toBe(3);
    await exited;
    expect(signalAll([pid], 'SIGKILL')).toBe(0);
  });

  it('reads the postmaster pid of a data directory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'trellis-pm-'));
    try {
      expect(postmasterPid(dir)).toBeUndefined();
      writeFileSync(join(dir, 'postmaster.pid'), '4242\n/var/lib/data\n1700000000\n5432\n');
      expect(postmasterPid(dir)).toBe(4242);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads a process state: stopped by SIGSTOP, running again after SIGCONT, unknown once gone', async () => {
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    const pid = child.pid as number;
    const until = async (want: (s: string) => boolean) => {
      for (let i = 0; i < 100 && !want(processState(pid)); i++) await new Promise((r) => setTimeout(r, 20));
      return processState(pid);
    };
    try {
      expect(await until((s) => s === 'S' || s === 'R')).toMatch(/^[SR]$/);
      process.kill(pid, 'SIGSTOP');
      expect(await until((s) => s === 'T')).toBe('T');
      process.kill(pid, 'SIGCONT');
      expect(await until((s) => s !== 'T')).not.toBe('T');
    } finally {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    }
    expect(processState(pid)).toBe('?');
  });
});
