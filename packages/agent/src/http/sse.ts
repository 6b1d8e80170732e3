/**
 * Server-Sent Events at the service edge: agent events go out as `event: <type>` frames with
 * JSON data, with heartbeats so proxies keep the connection open, honouring back-pressure, and
 * cancelling the run when the client goes away.
 */
import type { ServerResponse } from 'node:http';
import { type Clock, isTrellisError, systemClock } from '@trellis/core';
import type { AgentEvent } from '../loop/events.js';
import { resultToJson } from '../loop/run-result.js';

/** Options of {@link writeSse}. */
export interface SseOptions {
  /** Comment frames every this many ms while idle (default 15 000; 0 disables). */
  heartbeatMs?: number;
  clock?: Clock;
  /** Status code of the stream response (default 200). */
  status?: number;
}

/** The JSON an event is sent as: a finished run's result without its (possibly long) transcript. */
export function agentEventJson(event: AgentEvent): unknown {
  return event.type === 'run-finished' ? { ...event, result: resultToJson(event.result) } : event;
}

/** One SSE frame for an event. */
export function encodeSseEvent(event: AgentEvent): string {
  return `event: ${event.type}\ndata: ${JSON.stringify(agentEventJson(event))}\n\n`;
}

/**
 * Streams `events` to `res` as SSE until they end or the client disconnects; a disconnect
 * stops the iteration, which cancels the run (see `Agent.stream`). An error from the stream
 * (e.g. the run to continue does not exist) becomes a final `event: error` frame carrying
 * `{ error: { code, message } }`. Resolves when done; never rejects.
 *
 * @example
 * ```ts
 * const run = agent.stream({ user, input });
 * await writeSse(res, run);
 * ```
 */
export async function writeSse(
  res: ServerResponse,
  events: AsyncIterable<AgentEvent>,
  options: SseOptions = {},
): Promise<void> {
  const clock = options.clock ?? systemClock;
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  if (!res.headersSent) {
    res.writeHead(options.status ?? 200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.flushHeaders();
  }
  const iterator = events[Symbol.asyncIterator]();
  let gone = false;
  let onGone: () => void = () => {};
  const closed = new Promise<void>((resolve) => {
    onGone = resolve;
  });
  const markGone = () => {
    gone = true;
    onGone();
  };
  res.on('close', markGone);
  let timer = heartbeatMs > 0 ? clock.setTimeout(beat, heartbeatMs) : undefined;
  function beat() {
    if (gone) return;
    res.write(': keep-alive\n\n');
    timer = clock.setTimeout(beat, heartbeatMs);
  }
  try {
    for (;;) {
      let next: IteratorResult<AgentEvent> | undefined;
      try {
        next = await Promise.race([iterator.next(), closed.then(() => undefined)]);
      } catch (err) {
        // Headers are gone already: report the failure in-band, as the last frame.
        res.end(`event: error\ndata: ${JSON.stringify(errorJson(err))}\n\n`);
        return;
      }
      if (!next || gone) {
        await iterator.return?.();
        return;
      }
      if (next.done) break;
      if (!res.write(encodeSseEvent(next.value))) {
        await Promise.race([new Promise((resolve) => res.once('drain', resolve)), closed]);
      }
    }
    res.end();
  } finally {
    if (timer !== undefined) clock.clearTimeout(timer);
    res.off('close', markGone);
  }
}

function errorJson(err: unknown): unknown {
  return isTrellisError(err) ? err.toJSON() : { error: { code: 'INTERNAL', message: 'Internal error' } };
}
