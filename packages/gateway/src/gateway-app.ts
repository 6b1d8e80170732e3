/**
 * The Fastify app of the public listener. Slow-client limits are enforced by Node's HTTP
 * parser itself (our own server, so `headersTimeout`, `requestTimeout` and a short checking
 * interval apply); bodies are left unread for the proxy path, which reads them within each
 * route's limit; everything but the gateway's own health endpoints goes to `proxy`.
 */

import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import Fastify, { type FastifyInstance } from 'fastify';
import type { GatewayConfig } from './config.js';
import { writeError } from './error-reply.js';
import { InvalidPathError } from './errors.js';

/** Hands a request to the proxy path (the reply is already hijacked). */
export type ProxyEntry = (req: IncomingMessage, res: ServerResponse, ip: string, protocol: string) => void;

/** Builds the public Fastify app. */
export function createGatewayApp(
  config: GatewayConfig,
  draining: () => boolean,
  proxy: ProxyEntry,
): FastifyInstance {
  const app = Fastify({
    serverFactory: (handler) =>
      createServer(
        {
          requestTimeout: config.requestTimeoutMs,
          headersTimeout: config.headersTimeoutMs,
          keepAliveTimeout: config.keepAliveTimeoutMs,
          connectionsCheckingInterval: Math.min(1000, config.headersTimeoutMs),
        },
        handler,
      ),
    trustProxy: config.trustProxy,
    requestIdHeader: false,
    return503OnClosing: false,
    // A path the router cannot even decode (`%ff`, a truncated escape) is an invalid path like
    // any other: the Trellis error shape, not Fastify's own (which names its internal code).
    frameworkErrors: (_error, _request, reply) => {
      reply.hijack();
      writeError(reply.raw, new InvalidPathError(), randomUUID(), undefined);
    },
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null));
  app.get('/__gateway/health/live', async () => ({ status: 'live' }));
  app.get('/__gateway/health/ready', async (_request, reply) =>
    draining() ? reply.code(503).send({ status: 'draining' }) : { status: 'ready' },
  );
  const handler = (
    request: { raw: IncomingMessage; ip: string; protocol: string },
    reply: { hijack(): void; raw: ServerResponse },
  ) => {
    reply.hijack();
    proxy(request.raw, reply.raw, request.ip, request.protocol);
  };
  app.all('/', handler);
  app.all('/*', handler);
  return app;
}
