import { isValidationError } from '@trellis/core';
import { describe, expect, it } from 'vitest';
import { parseCli } from './options.js';

describe('parseCli', () => {
  it('has defaults for everything', () => {
    const { options, json, list } = parseCli([], {});
    expect(options.mode).toBe('distributed');
    expect(options.experiments).toEqual(['all']);
    expect(options.namespaces).toBe('auto');
    expect(options.settings).toEqual({
      steady: { minOrdersPerSecond: 1, maxErrorRate: 0.05 },
      steadyMs: 5000,
      holdScale: 1,
      recoveryTimeoutMs: 90_000,
      settleMs: 60_000,
      concurrency: 6,
      maxOrders: 1500,
    });
    expect([json, list]).toEqual([undefined, false]);
  });

  it('reads every option, and requires namespaces under CI=true', () => {
    const { options, json, markdown } = parseCli(
      [
        '--experiments',
        'ci, kill-redis',
        '--mode',
        'embedded',
        '--concurrency',
        '4',
        '--steady',
        '3',
        '--hold',
        '0.5',
        '--floor',
        '2',
        '--max-error-rate',
        '0.1',
        '--json',
        'out.json',
        '--markdown',
        'out.md',
        '--replicas',
        'orders=3, payments=2',
      ],
      { CI: 'true' },
    );
    expect(options.experiments).toEqual(['ci', 'kill-redis']);
    expect(options.mode).toBe('embedded');
    expect(options.namespaces).toBe('required');
    expect(options.settings).toMatchObject({
      steadyMs: 3000,
      holdScale: 0.5,
      concurrency: 4,
      steady: { minOrdersPerSecond: 2, maxErrorRate: 0.1 },
    });
    expect(json).toBe('out.json');
    expect(markdown).toBe('out.md');
    expect(options.replicas).toEqual({ orders: 3, payments: 2 });
  });

  it('refuses a bad value naming the option, and an unknown option', () => {
    const bad = (argv: string[]) => {
      try {
        parseCli(argv, {});
      } catch (error) {
        if (isValidationError(error)) return error;
      }
      throw new Error('expected a ValidationError');
    };
    expect(bad(['--concurrency', '0']).issues[0]?.path).toBe('concurrency');
    expect(bad(['--mode', 'cloud']).issues[0]?.path).toBe('mode');
    expect(bad(['--max-error-rate', '2']).issues[0]?.path).toBe('max-error-rate');
    expect(bad(['--replicas', 'orders=two']).issues[0]?.path).toBe('replicas');
    expect(bad(['--replicas', 'orders=0']).issues[0]?.path).toBe('replicas');
    expect(bad(['--bogus']).message).toContain('bogus');
  });
});
