import { randomFillSync } from 'node:crypto';

/**
 * Message ids: UUIDv7 (RFC 9562), like `uuidv7` from `@trellis/core`, made for the publish hot
 * path: randomness is drawn from a pooled buffer (one `randomFillSync` per 4 KiB instead of
 * one per id) and the timestamp is written without BigInt. Ids sort by creation time.
 */
const POOL_SIZE = 4096;
const pool = Buffer.allocUnsafe(POOL_SIZE);
let offset = POOL_SIZE;
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** A new UUIDv7 for `now` (ms since epoch). */
export function messageId(now: number = Date.now()): string {
  if (offset + 10 > POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  const r = pool;
  const o = offset;
  offset += 10;
  // 48-bit big-endian milliseconds: split so every part stays an exact integer.
  const high = Math.floor(now / 0x1000000); // top 24 bits
  const low = now % 0x1000000; // bottom 24 bits
  const h = HEX;
  const b = (i: number) => r[o + i] as number;
  return `${h[(high >>> 16) & 0xff]}${h[(high >>> 8) & 0xff]}${h[high & 0xff]}${h[(low >>> 16) & 0xff]}-${
    h[(low >>> 8) & 0xff]
  }${h[low & 0xff]}-${h[0x70 | (b(0) & 0x0f)]}${h[b(1)]}-${h[0x80 | (b(2) & 0x3f)]}${h[b(3)]}-${h[b(4)]}${h[b(5)]}${
    h[b(6)]
  }${h[b(7)]}${h[b(8)]}${h[b(9)]}`;
}
