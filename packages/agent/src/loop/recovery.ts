/**
 * Runs whose process died mid-step stay `running` in the store. Resuming them could repeat a
 * tool's side effect, so they are not resumed: they are closed as failed
 * (`AGENT_RUN_INTERRUPTED`), their dangling tool calls answered `TOOL_OUTCOME_UNKNOWN`, so
 * the conversation stays well-formed and can be continued with a new run.
 */
import { type Clock, isConflictError } from '@trellis/core';
import type { AgentRunRecord, RunStore } from '../store/run-record.js';
import { errorResult, ToolErrorCode } from '../tools/tool-results.js';

/** Code of the failure recorded on an interrupted run. */
export const RUN_INTERRUPTED = 'AGENT_RUN_INTERRUPTED';

/**
 * Marks runs stuck in `running` for longer than `olderThanMs` (since their last checkpoint)
 * as failed. Returns the ids closed. A run another process advances meanwhile is left alone
 * (its version moved on).
 */
export async function failInterruptedRuns(
  store: RunStore,
  clock: Clock,
  olderThanMs: number,
): Promise<string[]> {
  const closed: string[] = [];
  let before: string | undefined;
  for (;;) {
    const page = await store.list({ status: 'running', limit: 500, ...(before ? { before } : {}) });
    for (const summary of page) {
      if (clock.now() - summary.updatedAt < olderThanMs) continue;
      const record = await store.get(summary.id);
      if (record?.status !== 'running') continue;
      try {
        await store.save(closeInterrupted(record, clock.now()));
        closed.push(record.id);
      } catch (err) {
        if (!isConflictError(err)) throw err;
      }
    }
    if (page.length < 500) return closed;
    before = page[page.length - 1]?.id;
  }
}

function closeInterrupted(record: AgentRunRecord, now: number): AgentRunRecord {
  const last = record.messages.at(-1);
  if (last?.role === 'assistant' && last.toolCalls.length > 0) {
    const why = 'The process running this call stopped; whether it took effect is unknown';
    record.messages.push({
      role: 'tool',
      results: last.toolCalls.map((c) => errorResult(c, ToolErrorCode.outcomeUnknown, why)),
    });
  }
  record.status = 'failed';
  record.error = {
    code: RUN_INTERRUPTED,
    message: 'The run was interrupted (its process stopped mid-step) and was closed without resuming',
  };
  record.updatedAt = now;
  return record;
}
