import { isValidationError } from '@trellis/core';
import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor } from './common.js';

const forged = (values: unknown[]) => Buffer.from(JSON.stringify(values)).toString('base64url');
const raw = (json: string) => Buffer.from(json).toString('base64url');

describe('keyset cursors', () => {
  it('round-trip the values they were made from', () => {
    expect(decodeCursor(encodeCursor(['Coffee scale', 'p-scale']), 2)).toEqual(['Coffee scale', 'p-scale']);
    expect(decodeCursor(encodeCursor(['2026-01-01T00:00:00.000Z', 7]), 2)).toEqual([
      '2026-01-01T00:00:00.000Z',
      7,
    ]);
  });

  // A forged cursor carrying NUL reached PostgreSQL as a text parameter: a 500, not a 400.
  it.each([
    ['a NUL character', forged(['a\u0000b', 'x'])],
    ['a lone surrogate', raw('["\\ud800","x"]')],
    ['a number beyond float range', raw('[1e400,"x"]')],
    ['the wrong size', forged(['only one'])],
    ['an object', forged([{ $gt: '' }, 'x'])],
    ['not base64 JSON', 'not a cursor'],
  ])('refuse %s with a ValidationError naming the cursor', (_what, cursor) => {
    let error: unknown;
    try {
      decodeCursor(cursor, 2);
    } catch (e) {
      error = e;
    }
    expect(isValidationError(error)).toBe(true);
    expect((error as { issues: Array<{ path: string }> }).issues[0]?.path).toBe('cursor');
  });
});
