/**
 * OpenAPI 3.1 generated from endpoint contracts (zod 4's `z.toJSONSchema`), so the document
 * can never drift from what the service validates. Request schemas are rendered as inputs
 * (what a client may send), response schemas as outputs (what it will get).
 */
import { z } from 'zod';
import { type EndpointDefinition, operationIdOf, successStatusOf } from './endpoint.js';

/** Information placed in the document's `info` and `servers`. */
export interface OpenApiInfo {
  title: string;
  version: string;
  description?: string;
  servers?: ReadonlyArray<{ url: string; description?: string }>;
}

type JsonSchema = Record<string, unknown>;

const STATUS_TEXT: Record<number, string> = {
  400: 'Invalid input',
  401: 'Authentication required',
  403: 'Forbidden',
  404: 'Not found',
  409: 'Conflict',
  413: 'Payload too large',
  422: 'Unprocessable',
  429: 'Too many requests',
  500: 'Internal error',
  502: 'Upstream failed',
  503: 'Unavailable',
  504: 'Timed out',
};

/** The shape of every error body, referenced by each error response. */
export const errorBodySchema = z.object({
  error: z.object({
    code: z.string().describe('Stable machine-readable error code'),
    message: z.string(),
    details: z.unknown().optional(),
  }),
});

function schemaOf(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

function parametersOf(schema: z.ZodType | undefined, where: 'path' | 'query' | 'header'): JsonSchema[] {
  if (!schema) return [];
  const json = schemaOf(schema, 'input');
  const props = (json.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((json.required ?? []) as string[]);
  return Object.entries(props).map(([name, s]) => {
    const { description, ...rest } = s;
    const p: JsonSchema = { name, in: where, required: where === 'path' || required.has(name), schema: rest };
    if (typeof description === 'string') p.description = description;
    return p;
  });
}

/** `/users/:id` → `/users/{id}`. */
export function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

/**
 * Builds an OpenAPI 3.1 document for the given endpoints.
 *
 * @example
 * ```ts
 * const doc = buildOpenApi([getUser, createUser], { title: 'users', version: '1.0.0' });
 * ```
 */
export function buildOpenApi(endpoints: readonly EndpointDefinition[], info: OpenApiInfo): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const e of endpoints) {
    const path = openApiPath(e.path);
    paths[path] ??= {};
    const op: JsonSchema = { operationId: operationIdOf(e) };
    if (e.summary) op.summary = e.summary;
    if (e.description) op.description = e.description;
    if (e.tags?.length) op.tags = [...e.tags];
    const parameters = [
      ...parametersOf(e.params, 'path'),
      ...parametersOf(e.query, 'query'),
      ...parametersOf(e.headers, 'header'),
    ];
    if (parameters.length) op.parameters = parameters;
    if (e.body) {
      op.requestBody = {
        required: true,
        content: { 'application/json': { schema: schemaOf(e.body, 'input') } },
      };
    }
    const status = successStatusOf(e);
    const responses: Record<string, JsonSchema> = {};
    responses[String(status)] = e.response
      ? {
          description: 'Success',
          content: { 'application/json': { schema: schemaOf(e.response, 'output') } },
        }
      : { description: 'Success' };
    const errorStatuses: Record<number, string> = { ...e.errors };
    if (e.params || e.query || e.body || e.headers) errorStatuses[400] ??= STATUS_TEXT[400]!;
    if (e.auth && e.auth !== 'public') {
      errorStatuses[401] ??= STATUS_TEXT[401]!;
      if (typeof e.auth === 'object') errorStatuses[403] ??= STATUS_TEXT[403]!;
    }
    for (const [code, description] of Object.entries(errorStatuses)) {
      responses[code] = {
        description,
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      };
    }
    op.responses = responses;
    paths[path][e.method.toLowerCase()] = op;
  }
  const doc: JsonSchema = {
    openapi: '3.1.0',
    info: {
      title: info.title,
      version: info.version,
      ...(info.description ? { description: info.description } : {}),
    },
    paths,
    components: { schemas: { Error: schemaOf(errorBodySchema, 'output') } },
  };
  if (info.servers?.length) doc.servers = info.servers.map((s) => ({ ...s }));
  return doc;
}
