import { randomFillSync } from 'node:crypto';

// Ids are minted on every append and publish, where a per-call `randomBytes(16)` and BigInt
// arithmetic cost more than the SQLite insert itself. So randomness comes from a pooled
// buffer (one `randomFillSync` per 4 KiB) and the timestamp is split into exact integers.
const POOL_SIZE = 4096;
const pool = Buffer.allocUnsafe(POOL_SIZE);
let offset = POOL_SIZE;
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/**
 * A UUIDv7 (RFC 9562): the first 48 bits are the millisecond time, so ids sort by creation
 * time and index well in B-trees, unlike random v4 ids.
 */
export function uuidv7(now: number = Date.now()): string {
  if (offset + 10 > POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  const o = offset;
  offset += 10;
  const b = (i: number) => pool[o + i] as number;
  const h = HEX;
  const high = Math.floor(now / 0x1000000); // top 24 bits of the 48-bit time
  const low = now % 0x1000000; // bottom 24 bits
  return `${h[(high >>> 16) & 0xff]}${h[(high >>> 8) & 0xff]}${h[high & 0xff]}${h[(low >>> 16) & 0xff]}-${
    h[(low >>> 8) & 0xff]
  }${h[low & 0xff]}-${h[0x70 | (b(0) & 0x0f)]}${h[b(1)]}-${h[0x80 | (b(2) & 0x3f)]}${h[b(3)]}-${h[b(4)]}${h[b(5)]}${
    h[b(6)]
  }${h[b(7)]}${h[b(8)]}${h[b(9)]}`;
}
