/**
 * The tool half of a step: check every call, run the runnable ones in parallel (bounded),
 * set aside the ones that need approval, and on resume finish a paused step.
 */
import { ConflictError, uuidv7 } from '@trellis/core';
import type { ToolCall, ToolResult } from '../messages.js';
import type { PendingApproval, ToolCallRecord } from '../store/run-record.js';
import type { PreparedCall } from '../tools/executor.js';
import { errorResult, ToolErrorCode } from '../tools/tool-results.js';
import type { RunDriver } from './run-driver.js';
import type { RunResult } from './run-result.js';

/** What a step's tool calls produced. */
export interface ToolStepOutcome {
  /** Results by tool-call id (calls waiting for approval have none yet). */
  results: Map<string, ToolResult>;
  approvals: PendingApproval[];
  records: ToolCallRecord[];
}

/** Checks and runs the calls of one model turn. */
export async function runToolCalls(driver: RunDriver, calls: readonly ToolCall[]): Promise<ToolStepOutcome> {
  const { executor, clock } = driver.deps;
  const prepared: PreparedCall[] = [];
  for (const call of calls) prepared.push(await executor.prepare(call, driver.user));
  const approvals: PendingApproval[] = [];
  for (const p of prepared) {
    if (p.kind !== 'approval') continue;
    approvals.push({
      id: uuidv7(clock.now()),
      toolCallId: p.call.id,
      toolName: p.call.name,
      arguments: p.args,
      description: p.description,
      requestedAt: clock.now(),
    });
  }
  const outcome = await settle(driver, prepared);
  return { ...outcome, approvals };
}

/**
 * Finishes a step paused for approval: approved calls are checked again with the resuming
 * user's current permissions and run; rejected ones get a `TOOL_REJECTED` result. Returns a
 * result only when the run stops here (deadline, cancel).
 *
 * Throws `ConflictError` when an approval is still undecided.
 */
export async function resumePendingStep(driver: RunDriver): Promise<RunResult | undefined> {
  const record = driver.record;
  const pending = record.pending;
  const assistant = record.messages.at(-1);
  if (!pending || assistant?.role !== 'assistant') return undefined;
  const undecided = pending.approvals.filter((a) => !a.decision);
  if (undecided.length > 0) {
    throw new ConflictError(`Approval ${undecided.map((a) => a.id).join(', ')} is still pending`);
  }
  const byId = new Map(assistant.toolCalls.map((c) => [c.id, c]));
  const prepared: PreparedCall[] = [];
  for (const approval of pending.approvals) {
    const call = byId.get(approval.toolCallId) ?? {
      id: approval.toolCallId,
      name: approval.toolName,
      arguments: approval.arguments,
    };
    if (approval.decision?.approved) {
      prepared.push(await driver.deps.executor.prepare(call, driver.user, true));
    } else {
      const reason = approval.decision?.reason;
      const message = `The user rejected this action${reason ? `: ${reason}` : ''}. Do not retry it unless asked.`;
      prepared.push({ kind: 'result', call, result: errorResult(call, ToolErrorCode.rejected, message) });
    }
  }
  const outcome = await settle(driver, prepared);
  for (const r of pending.results) outcome.results.set(r.toolCallId, r);
  return driver.afterTools(assistant.toolCalls, outcome.results, [], outcome.records);
}

/** Runs the runnable calls concurrently (bounded by the driver's limiter); collects all results. */
async function settle(
  driver: RunDriver,
  prepared: readonly PreparedCall[],
): Promise<Omit<ToolStepOutcome, 'approvals'>> {
  const { executor, clock } = driver.deps;
  const runId = driver.record.id;
  const step = driver.record.steps.length;
  const results = new Map<string, ToolResult>();
  const records: ToolCallRecord[] = [];
  const file = (result: ToolResult, startedAt: number) => {
    results.set(result.toolCallId, result);
    const entry: ToolCallRecord = {
      toolCallId: result.toolCallId,
      toolName: result.toolName,
      startedAt,
      finishedAt: clock.now(),
      isError: result.isError,
    };
    if (result.errorCode) entry.errorCode = result.errorCode;
    records.push(entry);
    driver.emit({ type: 'tool-result', runId, step, result });
  };
  await Promise.all(
    prepared.map(async (p) => {
      const startedAt = clock.now();
      if (p.kind === 'result') return file(p.result, startedAt);
      if (p.kind !== 'run') return;
      const result = await executor.execute(p, {
        user: driver.user,
        runId,
        signal: driver.signal,
        parent: driver.inv.trace,
        limiter: driver.limiter,
      });
      file(result, startedAt);
    }),
  );
  return { results, records };
}
