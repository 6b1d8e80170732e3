import { isTrellisError, TrellisError } from '@trellis/core';
import { describe, expect, it } from 'vitest';
import {
  AgentLimitExceededError,
  AgentRunFailedError,
  CassetteMismatchError,
  isAgentLimitExceededError,
  isAgentRunFailedError,
  isCassetteMismatchError,
  isModelProviderError,
  isNoModelConfiguredError,
  isPayloadTooLargeError,
  isScriptMismatchError,
  isToolDefinitionError,
  ModelProviderError,
  NoModelConfiguredError,
  PayloadTooLargeError,
  ScriptMismatchError,
  ToolDefinitionError,
} from './errors.js';

const cases = [
  [new AgentLimitExceededError('maxSteps', 10), isAgentLimitExceededError, 'AGENT_LIMIT_EXCEEDED', 422],
  [new NoModelConfiguredError(), isNoModelConfiguredError, 'AGENT_NO_MODEL_CONFIGURED', 503],
  [new ModelProviderError('openai', 'boom', 500), isModelProviderError, 'AGENT_MODEL_ERROR', 502],
  [new ToolDefinitionError('t', 'bad'), isToolDefinitionError, 'AGENT_TOOL_DEFINITION', 500],
  [new ScriptMismatchError('x'), isScriptMismatchError, 'AGENT_SCRIPT_MISMATCH', 500],
  [new CassetteMismatchError('x'), isCassetteMismatchError, 'AGENT_CASSETTE_MISMATCH', 500],
  [new PayloadTooLargeError(1024), isPayloadTooLargeError, 'PAYLOAD_TOO_LARGE', 413],
  [new AgentRunFailedError('store down'), isAgentRunFailedError, 'AGENT_RUN_FAILED', 500],
] as const;

describe('agent errors', () => {
  for (const [error, guard, code, status] of cases) {
    it(`${error.name}: code ${code}, status ${status}, and its guard`, () => {
      expect(isTrellisError(error)).toBe(true);
      expect(error.code).toBe(code);
      expect(error.status).toBe(status);
      expect(guard(error)).toBe(true);
      // A copy from "another install" (same code, not the same class) is recognised too.
      expect(guard(new TrellisError(code, 'elsewhere'))).toBe(true);
      for (const [other, , otherCode] of cases) if (otherCode !== code) expect(guard(other)).toBe(false);
      expect(guard(new Error(code))).toBe(false);
    });
  }

  it('limit errors name the limit and value in message and details', () => {
    const e = new AgentLimitExceededError('deadline', 5000);
    expect(e.message).toBe('The run did not finish within its deadline of 5000 ms');
    expect(e.toJSON()).toEqual({
      error: {
        code: 'AGENT_LIMIT_EXCEEDED',
        message: e.message,
        details: { limit: 'deadline', value: 5000 },
      },
    });
  });
});
