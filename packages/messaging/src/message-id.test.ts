import { describe, expect, it } from 'vitest';
import { messageId } from './message-id.js';

describe('messageId', () => {
  it('is a UUIDv7 carrying the millisecond timestamp, unique and time-ordered', () => {
    const ts = 1_700_000_000_123;
    const id = messageId(ts);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(Number.parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(ts);
    const many = Array.from({ length: 5000 }, (_, i) => messageId(ts + Math.floor(i / 100)));
    expect(new Set(many).size).toBe(5000);
    expect(messageId(ts) < messageId(ts + 1)).toBe(true);
    expect(messageId(0).startsWith('00000000-0000-7')).toBe(true);
    expect(
      Number.parseInt(
        messageId(2 ** 48 - 1)
          .replace(/-/g, '')
          .slice(0, 12),
        16,
      ),
    ).toBe(2 ** 48 - 1);
  });
});
