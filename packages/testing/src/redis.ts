import { mkdtempSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { INSTALL_HINT, serverBinary } from './binaries.js';
import { ManagedProcess } from './managed-process.js';
import { freePort } from './ports.js';
import { makeHandle, type ServerHandle, waitUntil } from './server-handle.js';

/**
 * Starts `redis-server` on a free loopback port with persistence off (rate-limit state is
 * allowed to vanish with the process). Ready when it answers PING.
 *
 * Throws when the binary is missing (with the install command) or start-up fails (with the log).
 */
export async function startRedis(): Promise<ServerHandle> {
  const bin = serverBinary('redis');
  if (!bin) throw new Error(`redis-server not found. Install: ${INSTALL_HINT.redis}`);
  const dir = mkdtempSync(join(tmpdir(), 'trellis-redis-'));
  const port = await freePort();
  const proc = new ManagedProcess({
    name: 'redis',
    command: bin,
    args: ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'],
    logFile: join(dir, 'redis.log'),
  });
  const ready = () => waitUntil('redis-server', () => ping(port), proc);
  proc.start();
  await ready();
  return makeHandle('redis', `redis://127.0.0.1:${port}`, port, dir, proc, ready);
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = new Socket();
    s.setTimeout(500, () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(false));
    s.connect(port, '127.0.0.1', () => s.write('PING\r\n'));
    s.once('data', (d) => {
      s.destroy();
      resolve(d.toString().startsWith('+PONG'));
    });
  });
}
