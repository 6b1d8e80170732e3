import { describe, expect, it } from 'vitest';
import { classifyAnswer, type OrderAnswer } from './order-outcome.js';

const answer = (
  status: number,
  body: OrderAnswer['body'],
  headers: Record<string, string> = {},
): OrderAnswer => ({
  status,
  body,
  headers: new Headers(headers),
});

describe('classifyAnswer', () => {
  it('accepts 201 and 202 with their status, completed or compensated when terminal', () => {
    expect(classifyAnswer(answer(201, { id: 'o1', status: 'shipped' }))).toMatchObject({
      kind: 'accepted',
      orderId: 'o1',
      outcome: 'completed',
    });
    expect(classifyAnswer(answer(201, { id: 'o2', status: 'cancelled' }))).toMatchObject({
      outcome: 'compensated',
    });
    expect(classifyAnswer(answer(202, { id: 'o3', status: 'paid' }))).toMatchObject({
      kind: 'accepted',
      status: 'paid',
    });
  });

  it('asks again with the same key after no answer, a 5xx, a rate limit or a key still in progress', () => {
    const refused = new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } });
    expect(classifyAnswer(refused)).toEqual({ kind: 'retry', reason: 'ECONNREFUSED' });
    expect(classifyAnswer(new DOMException('timed out', 'TimeoutError'))).toEqual({
      kind: 'retry',
      reason: 'TimeoutError',
    });
    expect(classifyAnswer(answer(503, { error: { code: 'NO_HEALTHY_UPSTREAM' } }))).toEqual({
      kind: 'retry',
      reason: 'NO_HEALTHY_UPSTREAM',
    });
    expect(classifyAnswer(answer(502, 'Bad Gateway'))).toEqual({ kind: 'retry', reason: 'HTTP_502' });
    expect(
      classifyAnswer(answer(409, { error: { code: 'IDEMPOTENCY_KEY_IN_PROGRESS' } }, { 'retry-after': '2' })),
    ).toEqual({ kind: 'retry', reason: 'IDEMPOTENCY_KEY_IN_PROGRESS', retryAfterMs: 2000 });
    expect(
      classifyAnswer(answer(429, { error: { code: 'RATE_LIMITED' } }, { 'retry-after': '600' })),
    ).toEqual({
      kind: 'retry',
      reason: 'RATE_LIMITED',
      retryAfterMs: 5000,
    });
  });

  it('takes any other 4xx as a refusal of the request itself', () => {
    expect(classifyAnswer(answer(409, { error: { code: 'OUT_OF_STOCK' } }))).toEqual({
      kind: 'rejected',
      reason: 'OUT_OF_STOCK',
    });
    expect(classifyAnswer(answer(400, ''))).toEqual({ kind: 'rejected', reason: 'HTTP_400' });
  });
});
