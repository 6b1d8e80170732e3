import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { INSTALL_HINT, serverBinary } from './binaries.js';
import { ManagedProcess } from './managed-process.js';
import { freePort } from './ports.js';
import { makeHandle, type ServerHandle, waitUntil } from './server-handle.js';

/**
 * Starts `nats-server` with JetStream (file storage in a temp directory) on a free loopback
 * port. Ready when the monitoring endpoint reports JetStream healthy.
 *
 * Throws when the binary is missing (with the install command) or start-up fails (with the log).
 */
export async function startNats(): Promise<ServerHandle> {
  const bin = serverBinary('nats');
  if (!bin) throw new Error(`nats-server not found. Install: ${INSTALL_HINT.nats}`);
  const dir = mkdtempSync(join(tmpdir(), 'trellis-nats-'));
  const port = await freePort();
  const monitor = await freePort();
  const proc = new ManagedProcess({
    name: 'nats',
    command: bin,
    args: ['-js', '-a', '127.0.0.1', '-p', String(port), '-m', String(monitor), '-sd', join(dir, 'store')],
    logFile: join(dir, 'nats.log'),
  });
  const ready = () =>
    waitUntil(
      'nats-server',
      async () => (await fetch(`http://127.0.0.1:${monitor}/healthz?js-enabled-only=true`)).ok,
      proc,
    );
  proc.start();
  await ready();
  return makeHandle('nats', `nats://127.0.0.1:${port}`, port, dir, proc, ready);
}
