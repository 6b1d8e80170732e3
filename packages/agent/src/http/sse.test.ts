import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ManualClock, NotFoundError } from '@trellis/core';
import { afterEach, describe, expect, it } from 'vitest';
import type { AgentEvent } from '../loop/events.js';
import { encodeSseEvent, writeSse } from './sse.js';

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
});

async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  server = createServer(handler);
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

describe('writeSse', () => {
  it('frames events, sends heartbeats while idle, and clears its timer', async () => {
    const clock = new ManualClock();
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    async function* events(): AsyncGenerator<AgentEvent> {
      yield { type: 'run-started', runId: 'r1', resumed: false };
      await gate;
      yield { type: 'text-delta', runId: 'r1', step: 1, text: 'hi' };
    }
    let done: Promise<void> = Promise.resolve();
    const url = await serve((_req, res) => {
      done = writeSse(res, events(), { clock, heartbeatMs: 1_000 });
    });
    const res = await fetch(url);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = decoder.decode((await reader.read()).value);
    expect(text).toBe(encodeSseEvent({ type: 'run-started', runId: 'r1', resumed: false }));
    await clock.advance(1_000);
    text = decoder.decode((await reader.read()).value);
    expect(text).toBe(': keep-alive\n\n');
    release();
    let rest = '';
    for (;;) {
      const chunk = await reader.read();
      if (chunk.done) break;
      rest += decoder.decode(chunk.value);
    }
    expect(rest).toBe('event: text-delta\ndata: {"type":"text-delta","runId":"r1","step":1,"text":"hi"}\n\n');
    await done;
    expect(clock.pendingTimers()).toBe(0);
  });

  it('ends with an error frame when the stream fails after the headers went out', async () => {
    async function* events(): AsyncGenerator<AgentEvent> {
      yield { type: 'run-started', runId: 'r1', resumed: false };
      throw new NotFoundError('No run r0');
    }
    const url = await serve((_req, res) => {
      void writeSse(res, events(), { heartbeatMs: 0 });
    });
    const text = await (await fetch(url)).text();
    expect(
      text.endsWith('event: error\ndata: {"error":{"code":"NOT_FOUND","message":"No run r0"}}\n\n'),
    ).toBe(true);
  });
});
