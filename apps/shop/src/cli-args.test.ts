import { describe, expect, it } from 'vitest';
import { parseArgs, parseReplicas } from './cli-args.js';

describe('parseArgs', () => {
  const known = { values: ['orders', 'replicas'], flags: ['no-check'] };

  it('reads values, inline values, repeated values and flags', () => {
    const a = parseArgs(
      ['--orders', '10', '--replicas=orders=2', '--replicas', 'payments=2', '--no-check'],
      known,
    );
    expect(a.get('orders')).toBe('10');
    expect(a.all('replicas')).toEqual(['orders=2', 'payments=2']);
    expect(a.flag('no-check')).toBe(true);
    expect(a.flag('other')).toBe(false);
  });

  it('names unknown options and missing values', () => {
    expect(() => parseArgs(['--nope'], known)).toThrow('Unknown option --nope');
    expect(() => parseArgs(['--orders'], known)).toThrow('--orders needs a value');
    expect(() => parseArgs(['stray'], known)).toThrow('Unexpected argument "stray"');
  });
});

describe('parseReplicas', () => {
  it('parses service=count lists', () => {
    expect(parseReplicas(['orders=2,payments=3', 'shipping=1'])).toEqual({
      orders: 2,
      payments: 3,
      shipping: 1,
    });
    expect(() => parseReplicas(['orders'])).toThrow('service=count');
  });
});
