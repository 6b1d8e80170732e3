import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Principal } from '../identity.js';
import { createExampleShopTools, ExampleShop } from '../testing/example-shop.js';
import { checkToolSchemas, ToolRegistry } from './registry.js';
import { defineTool, jsonSchemaTool } from './tool.js';

describe('ToolRegistry', () => {
  const registry = new ToolRegistry(createExampleShopTools(new ExampleShop()));

  it('the generated JSON Schema of every example tool is complete (no empty properties)', () => {
    expect(checkToolSchemas(registry)).toEqual([]);
    const schemas = Object.fromEntries(registry.specs().map((t) => [t.name, t.inputSchema]));
    expect(schemas).toEqual({
      search_orders: {
        type: 'object',
        properties: {
          customerId: {
            type: 'string',
            minLength: 1,
            description: 'Whose orders; defaults to the current user',
          },
          status: {
            type: 'string',
            enum: ['pending', 'shipped', 'delivered', 'cancelled'],
            description: 'Only orders in this status',
          },
        },
      },
      get_order: {
        type: 'object',
        properties: { orderId: { type: 'string', minLength: 1 } },
        required: ['orderId'],
      },
      stock_lookup: {
        type: 'object',
        properties: { sku: { type: 'string', pattern: '^SKU-[A-Z]+$' } },
        required: ['sku'],
      },
      cancel_order: {
        type: 'object',
        properties: { orderId: { type: 'string', minLength: 1 }, reason: { type: 'string', maxLength: 200 } },
        required: ['orderId'],
      },
    });
  });

  it('nested objects, arrays, unions and defaults survive the conversion', () => {
    const tool = defineTool({
      name: 'place_order',
      description: 'Place an order',
      input: z.object({
        items: z.array(z.object({ sku: z.string(), qty: z.number().int().positive() })).min(1),
        shipping: z.discriminatedUnion('kind', [
          z.object({ kind: z.literal('pickup'), store: z.string() }),
          z.object({ kind: z.literal('delivery'), address: z.string() }),
        ]),
        express: z.boolean().default(false),
      }),
      execute: () => null,
    });
    const schema = tool.inputSchema as {
      properties: Record<string, Record<string, unknown>>;
      required: string[];
    };
    expect(schema.required).toEqual(['items', 'shipping']);
    expect(schema.properties.items).toMatchObject({
      type: 'array',
      minItems: 1,
      items: { type: 'object', required: ['sku', 'qty'] },
    });
    expect(schema.properties.shipping?.oneOf ?? schema.properties.shipping?.anyOf).toHaveLength(2);
    expect(schema.properties.express).toEqual({ type: 'boolean', default: false });
    expect(checkToolSchemas(new ToolRegistry([tool]))).toEqual([]);
  });

  it('checkToolSchemas finds what would leave a model guessing', () => {
    const sloppy = jsonSchemaTool({
      name: 'sloppy',
      description: 'hand-written schema with mistakes',
      parameters: { type: 'object', properties: { anything: {} }, required: ['missing'] },
      execute: () => null,
    });
    expect(checkToolSchemas(new ToolRegistry([sloppy]))).toEqual([
      { tool: 'sloppy', problem: 'property "anything" has an empty schema' },
      { tool: 'sloppy', problem: 'required property "missing" is not declared' },
    ]);
  });

  it('filters tools by the permissions they declare', () => {
    const customer = new Principal({ id: 'u', permissions: ['orders:read'] });
    expect(registry.available(customer).map((t) => t.name)).toEqual([
      'search_orders',
      'get_order',
      'stock_lookup',
    ]);
    expect(registry.specs(new Principal({ id: 'v', permissions: [] })).map((t) => t.name)).toEqual([
      'stock_lookup',
    ]);
  });

  it('refuses duplicate names and accepts every definition form', () => {
    expect(
      () => new ToolRegistry([...createExampleShopTools(new ExampleShop()), registry.get('get_order')!]),
    ).toThrow(/already registered/);
    const r = new ToolRegistry();
    r.register(
      { name: 'zod_form', description: 'd', input: z.object({ a: z.string() }), execute: () => 1 },
      {
        name: 'seed_form',
        description: 'd',
        parameters: { type: 'object', properties: {} },
        execute: async () => 1,
      },
    );
    expect(r.all().map((t) => t.name)).toEqual(['zod_form', 'seed_form']);
  });
});
