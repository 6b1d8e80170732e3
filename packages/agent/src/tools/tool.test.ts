import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Principal } from '../identity.js';
import { defineTool, jsonSchemaTool, toTool } from './tool.js';

const user = new Principal({ id: 'u1', permissions: ['orders:read'] });

describe('defineTool (zod)', () => {
  const tool = defineTool({
    name: 'search_orders',
    description: 'Search orders',
    input: z.object({
      customerId: z.string().describe('whose orders'),
      status: z.enum(['pending', 'shipped', 'delivered']).optional(),
      limit: z.number().int().min(1).max(50).default(10),
    }),
    execute: (args) => args,
  });

  it('generates the input-side JSON Schema with every property', () => {
    expect(tool.inputSchema).toEqual({
      type: 'object',
      properties: {
        customerId: { type: 'string', description: 'whose orders' },
        status: { type: 'string', enum: ['pending', 'shipped', 'delivered'] },
        limit: { type: 'integer', minimum: 1, maximum: 50, default: 10 },
      },
      required: ['customerId'],
    });
  });

  it('parses, coerces defaults and reports issues by field', () => {
    expect(tool.parse({ customerId: 'c1' })).toEqual({ ok: true, value: { customerId: 'c1', limit: 10 } });
    const bad = tool.parse({ customerId: 7, status: 'lost' });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.issues.map((i) => i.path).sort()).toEqual(['customerId', 'status']);
  });

  it('rejects names the providers would refuse, missing descriptions and bad timeouts', () => {
    const input = z.object({});
    for (const def of [
      { name: 'has space', description: 'x', input, execute: () => 1 },
      { name: 'x'.repeat(65), description: 'x', input, execute: () => 1 },
      { name: 'ok', description: '  ', input, execute: () => 1 },
      { name: 'ok', description: 'x', input, timeoutMs: 0, execute: () => 1 },
    ]) {
      expect(() => defineTool(def)).toThrow(expect.objectContaining({ code: 'AGENT_TOOL_DEFINITION' }));
    }
  });

  it('rejects schemas that are not objects or cannot become JSON Schema', () => {
    const notObject = () =>
      defineTool({
        name: 'a',
        description: 'a',
        input: z.string() as unknown as z.ZodObject,
        execute: () => 1,
      });
    expect(notObject).toThrow(/z.object/);
    const withDate = () =>
      defineTool({ name: 'a', description: 'a', input: z.object({ at: z.date() }), execute: () => 1 });
    expect(withDate).toThrow(/cannot be expressed as JSON Schema/);
    const notZod = () =>
      defineTool({
        name: 'a',
        description: 'a',
        input: { type: 'object' } as unknown as z.ZodObject,
        execute: () => 1,
      });
    expect(notZod).toThrow(/zod 4/);
  });

  it('decides approval per call when given a function', async () => {
    const refund = defineTool({
      name: 'refund',
      description: 'Refund',
      input: z.object({ amount: z.number() }),
      needsApproval: ({ amount }) => amount > 100,
      describeCall: ({ amount }) => `Refund ${amount} EUR`,
      execute: () => 'ok',
    });
    expect(await refund.needsApproval({ amount: 50 }, { user })).toBe(false);
    expect(await refund.needsApproval({ amount: 500 }, { user })).toBe(true);
    expect(refund.describeCall({ amount: 500 })).toBe('Refund 500 EUR');
  });
});

describe('jsonSchemaTool (the seed form)', () => {
  const seed = {
    name: 'search_orders',
    description: 'Search orders by customer or status',
    parameters: {
      type: 'object',
      properties: {
        customerId: { type: 'string' },
        status: { type: 'string', enum: ['pending', 'shipped', 'delivered'] },
        email: { type: 'string', format: 'email' },
      },
      required: ['customerId'],
      additionalProperties: false,
    },
    execute: async (params: unknown) => params,
  };

  it('validates arguments with ajv and names every bad field', () => {
    const tool = toTool(seed);
    expect(tool.parse({ customerId: 'c1', status: 'shipped' })).toEqual({
      ok: true,
      value: { customerId: 'c1', status: 'shipped' },
    });
    const bad = tool.parse({ status: 'lost', email: 'nope', extra: 1 });
    expect(bad.ok).toBe(false);
    if (!bad.ok) {
      expect(bad.issues.map((i) => i.path).sort()).toEqual(['customerId', 'email', 'extra', 'status']);
    }
  });

  it('accepts draft-07 schemas and strips $schema from what the model sees', () => {
    const tool = jsonSchemaTool({
      ...seed,
      parameters: { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', properties: {} },
    });
    expect(tool.inputSchema).toEqual({ type: 'object', properties: {} });
  });

  it('refuses a schema that is not a valid object JSON Schema', () => {
    expect(() => jsonSchemaTool({ ...seed, parameters: { type: 'string' } })).toThrow(/type "object"/);
    expect(() =>
      jsonSchemaTool({ ...seed, parameters: { type: 'object', properties: { a: { type: 'nonsense' } } } }),
    ).toThrow(/not a valid JSON Schema/);
  });
});
