import { randomFillSync } from 'node:crypto';

const POOL_SIZE = 16 * 256;
const pool = Buffer.alloc(POOL_SIZE);
let offset = POOL_SIZE;
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/**
 * A UUIDv7 (RFC 9562) for event ids, time-ordered so ids index well. Same format as
 * `uuidv7` in `@trellis/core`, but drawing randomness from a pooled buffer and building the
 * string without BigInt: ids are minted on every append, and the per-call `randomBytes`
 * there cost more than the SQLite insert itself.
 */
export function eventId(now: number): string {
  if (offset + 10 > POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  const r = pool;
  const o = offset;
  offset += 10;
  // 48-bit big-endian milliseconds: split into a high 16 and a low 32 bits (exact below 2^53).
  const hi = Math.floor(now / 0x100000000) & 0xffff;
  const lo = now >>> 0;
  return (
    HEX[hi >>> 8]! +
    HEX[hi & 0xff]! +
    HEX[lo >>> 24]! +
    HEX[(lo >>> 16) & 0xff]! +
    '-' +
    HEX[(lo >>> 8) & 0xff]! +
    HEX[lo & 0xff]! +
    '-' +
    HEX[0x70 | (r[o]! & 0x0f)]! +
    HEX[r[o + 1]!]! +
    '-' +
    HEX[0x80 | (r[o + 2]! & 0x3f)]! +
    HEX[r[o + 3]!]! +
    '-' +
    HEX[r[o + 4]!]! +
    HEX[r[o + 5]!]! +
    HEX[r[o + 6]!]! +
    HEX[r[o + 7]!]! +
    HEX[r[o + 8]!]! +
    HEX[r[o + 9]!]!
  );
}
