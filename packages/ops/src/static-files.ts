/**
 * Serves a built single-page app (the console) from a directory under a URL prefix: files
 * with their content type and long caching for hashed assets, `index.html` for every other
 * path below the prefix (client-side routes), and nothing outside the directory.
 */
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import type { FastifyInstance } from 'fastify';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.map': 'application/json',
  '.woff2': 'font/woff2',
};

/** Options of {@link serveStatic}. */
export interface StaticOptions {
  /** The directory (e.g. a Vite `dist`). */
  dir: string;
  /** URL prefix without trailing slash (`/console`). */
  prefix: string;
}

/**
 * Registers `GET <prefix>` and `GET <prefix>/*` on `app`.
 *
 * @example
 * ```ts
 * serveStatic(service.app, { dir: consoleDistDir, prefix: '/console' });
 * ```
 */
export function serveStatic(app: FastifyInstance, o: StaticOptions): void {
  const root = normalize(o.dir);
  const send = async (
    path: string,
    reply: { type(t: string): unknown; header(k: string, v: string): unknown; code(c: number): unknown },
  ) => {
    const file = normalize(join(root, path));
    if (file !== root && !file.startsWith(root + sep)) {
      reply.code(404);
      return { error: { code: 'ROUTE_NOT_FOUND', message: 'Not found' } };
    }
    const isFile = await stat(file).then(
      (s) => s.isFile(),
      () => false,
    );
    const chosen = isFile ? file : join(root, 'index.html');
    const body = await readFile(chosen);
    reply.type(TYPES[extname(chosen)] ?? 'application/octet-stream');
    reply.header(
      'cache-control',
      isFile && path.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
    );
    return body;
  };
  app.get(o.prefix, async (_request, reply) => send('/', reply));
  app.get(`${o.prefix}/*`, async (request, reply) =>
    send(`/${(request.params as { '*': string })['*']}`, reply),
  );
}
