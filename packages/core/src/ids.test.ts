import { describe, expect, it } from 'vitest';
import { uuidv7 } from './ids.js';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('uuidv7', () => {
  it('is a UUIDv7 whose first 48 bits are the millisecond time', () => {
    for (const now of [0, 1, Date.UTC(2026, 0, 1, 12, 30, 15, 123), 2 ** 48 - 1]) {
      const id = uuidv7(now);
      expect(id).toMatch(UUID_V7);
      expect(Number.parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(now);
    }
  });

  it('sorts by time and never repeats across pool refills', () => {
    const ids = Array.from({ length: 5000 }, (_, i) => uuidv7(1_700_000_000_000 + Math.floor(i / 10)));
    expect(new Set(ids).size).toBe(ids.length);
    const byTime = ids.filter((_, i) => i % 10 === 0);
    expect([...byTime].sort()).toEqual(byTime);
    expect(ids.every((id) => UUID_V7.test(id))).toBe(true);
  });
});
