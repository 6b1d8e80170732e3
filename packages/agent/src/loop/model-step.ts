/**
 * The model half of a step: one call through the provider (and the agent's model policy),
 * its deltas reported as events, its usage and turn recorded, inside a `chat {model}` span.
 */
import { isTrellisError } from '@trellis/core';
import { ModelProviderError } from '../errors.js';
import { addUsage, type ModelDelta, type ModelRequest, type ModelResponse } from '../messages.js';
import { endSpan, startChildSpan } from '../tracing.js';
import type { RunDriver } from './run-driver.js';
import type { RunResult } from './run-result.js';

/** Calls the model for the next step; a failure or stop ends the run (returns its result). */
export async function callModel(driver: RunDriver): Promise<ModelResponse | RunResult> {
  const step = driver.record.steps.length + 1;
  const runId = driver.record.id;
  driver.emit({ type: 'step-started', runId, step });
  const { model, modelPolicy, executor, clock, tracer } = driver.deps;
  const request: ModelRequest = {
    messages: [...driver.record.messages],
    tools: executor.registry.specs(driver.user),
  };
  if (driver.record.system) request.system = driver.record.system;
  if (driver.inv.limits.maxOutputTokens) request.maxOutputTokens = driver.inv.limits.maxOutputTokens;
  const { span } = startChildSpan(
    tracer,
    `chat ${model.model}`,
    {
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': model.provider,
      'gen_ai.request.model': model.model,
      'trellis.agent.run_id': runId,
      'trellis.agent.step': step,
    },
    driver.inv.trace,
  );
  const names = new Map<number, { id: string; name: string }>();
  const onDelta = (d: ModelDelta) => {
    if (d.type === 'text') driver.emit({ type: 'text-delta', runId, step, text: d.text });
    else if (d.type === 'tool-call-start') names.set(d.index, { id: d.id, name: d.name });
    else {
      const toolName = names.get(d.index)?.name ?? '';
      driver.emit({
        type: 'tool-call-delta',
        runId,
        step,
        index: d.index,
        toolCallId: d.id,
        toolName,
        argumentsDelta: d.argumentsDelta,
      });
    }
  };
  const startedAt = clock.now();
  let response: ModelResponse;
  try {
    const call = (signal: AbortSignal) => model.generate(request, { signal, onDelta });
    response = await (modelPolicy ? modelPolicy.execute(call, driver.signal) : call(driver.signal));
  } catch (err) {
    endSpan(span, {
      code: isTrellisError(err) ? err.code : 'AGENT_MODEL_ERROR',
      message: String((err as Error)?.message ?? err),
    });
    if (driver.signal.aborted) return driver.stopped([]);
    return driver.fail(
      isTrellisError(err)
        ? err
        : new ModelProviderError(model.provider, String((err as Error)?.message ?? err), undefined, {
            cause: err,
          }),
    );
  }
  span.setAttributes({
    'gen_ai.usage.input_tokens': response.usage.inputTokens,
    'gen_ai.usage.output_tokens': response.usage.outputTokens,
    'gen_ai.response.finish_reasons': [response.stopReason],
    ...(response.model ? { 'gen_ai.response.model': response.model } : {}),
  });
  endSpan(span);
  driver.record.messages.push({
    role: 'assistant',
    content: response.content,
    toolCalls: response.toolCalls,
  });
  driver.record.usage = addUsage(driver.record.usage, response.usage);
  driver.record.steps.push({
    step,
    provider: model.provider,
    model: response.model ?? model.model,
    startedAt,
    finishedAt: clock.now(),
    stopReason: response.stopReason,
    usage: response.usage,
    toolCalls: [],
  });
  for (const toolCall of response.toolCalls) driver.emit({ type: 'tool-call', runId, step, toolCall });
  driver.emit({ type: 'step-finished', runId, step, stopReason: response.stopReason, usage: response.usage });
  return response;
}
