import { checkToolSchemas, ToolRegistry, toPrincipal } from '@trellis/agent';
import { afterAll, describe, expect, it } from 'vitest';
import { permissionsFor } from './assistant-identity.js';
import { closeClients, gatewayClients } from './shop-clients.js';
import { createShopTools, SHOP_TOOL_NAMES } from './shop-tools.js';

// Clients are lazy: nothing is called here, the registry only needs the tool definitions.
const clients = gatewayClients('http://127.0.0.1:9');
const registry = new ToolRegistry(createShopTools(clients));
afterAll(() => closeClients(clients));

const specOf = (name: string) => registry.specs().find((s) => s.name === name);

describe('the shop tools', () => {
  it('have JSON Schemas a model and an MCP client can use (no empty properties, no stray required)', () => {
    expect(checkToolSchemas(registry)).toEqual([]);
    expect(registry.specs().map((s) => s.name)).toEqual([...SHOP_TOOL_NAMES]);
  });

  it('keep the seed’s search_orders: customerId and a status enum of the shop’s real states', () => {
    const schema = specOf('search_orders')?.inputSchema as {
      properties: Record<string, { enum?: string[]; pattern?: string }>;
      required?: string[];
    };
    expect(Object.keys(schema.properties)).toEqual(['customerId', 'status', 'query', 'limit']);
    expect(schema.properties.status?.enum).toEqual(['draft', 'submitted', 'paid', 'shipped', 'cancelled']);
    // Ids carry the shop's own pattern, so the model sees what the services accept.
    expect(schema.properties.customerId?.pattern).toBeDefined();
    expect(schema.required ?? []).toEqual([]);
  });

  it('require the fields they cannot do without', () => {
    expect(specOf('get_order')?.inputSchema.required).toEqual(['orderId']);
    expect(specOf('cancel_order')?.inputSchema.required).toEqual(['orderId']);
    expect(specOf('stock_lookup')?.inputSchema.required).toEqual(['productIds']);
  });

  it('ask a human before cancelling, and offer order tools only to users who have orders', async () => {
    const customer = toPrincipal({ id: 'c1', permissions: permissionsFor(['customer']) });
    const stranger = toPrincipal({ id: 'x1', permissions: permissionsFor([]) });
    expect(await registry.get('cancel_order')?.needsApproval({ orderId: 'o1' }, { user: customer })).toBe(
      true,
    );
    expect(await registry.get('search_orders')?.needsApproval({}, { user: customer })).toBe(false);
    expect(registry.specs(customer).map((s) => s.name)).toEqual([...SHOP_TOOL_NAMES]);
    expect(registry.specs(stranger).map((s) => s.name)).toEqual(['search_products', 'stock_lookup']);
  });
});
