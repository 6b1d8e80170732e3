/**
 * The Fastify app of the public listener. Slow-client limits are enforced by Node's HTTP
 * parser itself (our own server, so `headersTimeout`, `requestTimeout` and a short checking
 * interval apply); bodies are left unread for the proxy path, which reads them within each
 * route's limit; everything but the gateway's own health endpoints goes to `proxy`.
 */

import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
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
    clientErrorHandler,
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

const CLIENT_ERRORS: Record<string, [number, string, string, string]> = {
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout', 'REQUEST_TIMEOUT', 'The request did not arrive in time'],
  HPE_HEADER_OVERFLOW: [
    431,
    'Request Header Fields Too Large',
    'HEADERS_TOO_LARGE',
    'Request headers too large',
  ],
};

/**
 * Requests Node's HTTP parser refuses before Fastify sees them (malformed framing, headers over
 * 16 KiB, too slow): answered in the Trellis error shape too, then the connection is closed.
 */
function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, reason, code, message] = CLIENT_ERRORS[error.code ?? ''] ?? [
    400,
    'Bad Request',
    'BAD_REQUEST',
    'Malformed HTTP request',
  ];
  const body = JSON.stringify({ error: { code, message } });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
