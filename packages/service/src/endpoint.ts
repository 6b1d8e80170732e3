/**
 * Endpoint contracts: one definition of an HTTP operation (method, path, zod schemas for
 * params, query, headers, body and response) shared by the service that implements it, the
 * OpenAPI document generated from it and the typed client that calls it. Schemas are written
 * once, never twice.
 */
import type { z } from 'zod';

/** HTTP methods an endpoint can use. */
export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS';

/** Who may call an endpoint when the service verifies internal identity tokens. */
export type EndpointAuth =
  /** Anyone, with or without an identity. */
  | 'public'
  /** Any verified identity. */
  | 'authenticated'
  /** A verified identity holding every listed scope and at least one listed role (when given). */
  | { scopes?: readonly string[]; roles?: readonly string[] };

/** An object schema (for params, query and headers, whose fields map to parameters). */
export type ObjectSchema = z.ZodType<Record<string, unknown>, Record<string, unknown>>;

/** The definition of one HTTP operation. */
export interface EndpointDefinition {
  method: HttpMethod;
  /** Fastify-style path: `/users/:id`. */
  path: string;
  /** Stable name in the OpenAPI document and the typed client; defaults to method + path. */
  operationId?: string;
  summary?: string;
  description?: string;
  tags?: readonly string[];
  params?: ObjectSchema;
  query?: ObjectSchema;
  /** Request headers the handler reads (names in lower case). */
  headers?: ObjectSchema;
  body?: z.ZodType;
  /** Schema of the success body. Omit for an empty (204) answer. */
  response?: z.ZodType;
  /** Success status. Default 200 with a response schema, 204 without. */
  status?: number;
  /** Error statuses this endpoint documents (code → description), for OpenAPI. */
  errors?: Readonly<Record<number, string>>;
  /** Required identity; default `'public'`. Enforced only when internal auth is configured. */
  auth?: EndpointAuth;
  /** Body size limit in bytes for this endpoint (default: the service's). */
  bodyLimit?: number;
  /**
   * Whether an `Idempotency-Key` is honoured (the answer stored and replayed). Default true;
   * `false` ignores the header, for endpoints whose answers must never be stored, such as a
   * log-in returning a session token.
   */
  idempotencyKeys?: boolean;
}

/** The output (parsed) type of an optional schema, or `undefined` when absent. */
export type Out<S> = S extends z.ZodType ? z.output<S> : undefined;
/** The input (pre-parse) type of an optional schema, or `undefined` when absent. */
export type In<S> = S extends z.ZodType ? z.input<S> : undefined;

/** The parsed request parts a handler receives. */
export interface EndpointRequest<E extends EndpointDefinition> {
  params: Out<E['params']>;
  query: Out<E['query']>;
  headers: Out<E['headers']>;
  body: Out<E['body']>;
}

/** What a handler returns: the response schema's input type (it is parsed on the way out). */
export type EndpointResult<E extends EndpointDefinition> = E['response'] extends z.ZodType
  ? z.input<E['response']>
  : unknown;

/** What a typed client call returns: the response schema's output type. */
export type EndpointResponse<E extends EndpointDefinition> = Out<E['response']>;

type OptionalKeys<T> = { [K in keyof T]: undefined extends T[K] ? K : never }[keyof T];
type Simplify<T> = { [K in keyof T]: T[K] } & {};
/** Makes properties whose type admits `undefined` optional. */
type Optionalize<T> = Simplify<Omit<T, OptionalKeys<T>> & Partial<Pick<T, OptionalKeys<T>>>>;

/** The request parts of a call before optional ones are made optional. */
type InputParts<E extends EndpointDefinition> = {
  params: LooseIn<E['params']>;
  query: LooseIn<E['query']>;
  headers: LooseIn<E['headers']>;
  body: In<E['body']>;
};

/** Like {@link In}, but an object whose fields are all optional may be left out entirely. */
type LooseIn<S> = S extends z.ZodType
  ? Record<string, never> extends z.input<S>
    ? z.input<S> | undefined
    : z.input<S>
  : undefined;

/** The input of a typed client call: the request parts the endpoint declares. */
export type EndpointInput<E extends EndpointDefinition> = Optionalize<InputParts<E>>;

/** Names of the parts a call must pass (those whose schema exists). */
export type RequiredInputParts<E extends EndpointDefinition> =
  OptionalKeys<InputParts<E>> extends infer O ? Exclude<keyof InputParts<E>, O> : never;

/**
 * Declares an endpoint contract. Returns the definition unchanged, with its literal types kept.
 *
 * @example
 * ```ts
 * export const getUser = endpoint({
 *   method: 'GET',
 *   path: '/users/:id',
 *   params: z.object({ id: z.uuid() }),
 *   response: User,
 *   errors: { 404: 'No such user' },
 * });
 * ```
 */
export function endpoint<const E extends EndpointDefinition>(definition: E): E {
  return definition;
}

/** The operation id of an endpoint: its own, or derived from method and path. */
export function operationIdOf(e: EndpointDefinition): string {
  if (e.operationId) return e.operationId;
  const words = e.path
    .split('/')
    .filter(Boolean)
    .map((p) => (p.startsWith(':') ? `by ${p.slice(1)}` : p))
    .join(' ')
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean);
  return [e.method.toLowerCase(), ...words.map((w) => w[0]!.toUpperCase() + w.slice(1))].join('');
}

/** The success status of an endpoint. */
export function successStatusOf(e: EndpointDefinition): number {
  return e.status ?? (e.response ? 200 : 204);
}

/** Methods that are safe to repeat (RFC 9110 §9.2.2): a retry cannot act twice. */
export const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set([
  'GET',
  'HEAD',
  'OPTIONS',
  'PUT',
  'DELETE',
  'TRACE',
]);
