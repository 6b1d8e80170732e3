import { describe, expect, it } from 'vitest';
import { currentMessage, outgoingHeaders, outsideMessage, runWithMessage } from './context.js';
import type { Message } from './message.js';

const parent: Message = {
  id: 'm-1',
  topic: 'order.created',
  key: 'o1',
  headers: { traceparent: 'tp', tracestate: 'ts', correlationId: 'corr' },
  payload: {},
  publishedAt: 0,
  deliveredAt: 0,
  attempt: 1,
};

describe('message context', () => {
  it('inherits correlation, causation and trace context; provided and explicit headers win in order', async () => {
    expect(outgoingHeaders({ a: '1' })).toEqual({ a: '1' });
    await runWithMessage(parent, async () => {
      await Promise.resolve();
      expect(currentMessage()?.id).toBe('m-1');
      expect(outgoingHeaders(undefined)).toEqual({
        correlationId: 'corr',
        causationId: 'm-1',
        traceparent: 'tp',
        tracestate: 'ts',
      });
      expect(
        outgoingHeaders({ traceparent: 'mine', x: undefined }, { traceparent: 'span', y: 'y' }),
      ).toMatchObject({
        traceparent: 'mine',
        y: 'y',
      });
      expect(outsideMessage(() => currentMessage())).toBeUndefined();
    });
    expect(currentMessage()).toBeUndefined();
  });

  it('uses the parent id as correlation id when the parent had none', () => {
    runWithMessage({ ...parent, headers: {} }, () => {
      expect(outgoingHeaders(undefined)).toEqual({ correlationId: 'm-1', causationId: 'm-1' });
    });
  });
});
