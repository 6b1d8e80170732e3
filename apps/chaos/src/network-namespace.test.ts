import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetworkNamespace } from './network-namespace.js';

const run = promisify(execFile);
const probe = await NetworkNamespace.probe();
const ci = process.env.CI === 'true' || process.env.CI === '1';
if (!probe.ok) {
  // CI runs as root on a machine that has namespaces: not being able to make one there is a failure.
  if (ci) throw new Error(`CI=true and network namespaces are unavailable: ${probe.reason}`);
  console.warn(`[chaos] skipping network namespace tests: ${probe.reason}`);
}

/** Connects from inside `ns` to host:port; resolves 'connected' or the error code. */
async function connectFrom(ns: NetworkNamespace, host: string, port: number): Promise<string> {
  const script = `const s = require('node:net').connect(${port}, ${JSON.stringify(host)});
    s.on('connect', () => { console.log('connected'); s.destroy(); });
    s.on('error', (e) => console.log(e.code));
    s.setTimeout(8000, () => { console.log('TIMEOUT'); s.destroy(); });`;
  const [cmd, ...args] = ns.execPrefix();
  const { stdout } = await run(cmd as string, [...args, process.execPath, '-e', script]);
  return stdout.trim();
}

describe.skipIf(!probe.ok)('NetworkNamespace', () => {
  let ns: NetworkNamespace;
  let server: Server;
  let local: Server;

  beforeAll(async () => {
    ns = await NetworkNamespace.create('test', ['service', 'db']);
    server = createServer((s) => s.end());
    await new Promise<void>((r) => server.listen(0, ns.link('db').rootAddress, r));
    local = createServer((s) => s.end());
    await new Promise<void>((r) => local.listen(0, '127.0.0.1', r));
  });

  afterAll(async () => {
    await new Promise((r) => server?.close(r));
    await new Promise((r) => local?.close(r));
    await ns?.destroy();
  });

  const port = (s: Server) => (s.address() as { port: number }).port;

  it('reaches the root side of its links, and nothing on the root loopback', async () => {
    expect(await connectFrom(ns, ns.link('db').rootAddress, port(server))).toBe('connected');
    expect(await connectFrom(ns, '127.0.0.1', port(local))).toBe('ECONNREFUSED');
  });

  it('is cut off from a path while its link is down, and reaches it again once up', async () => {
    await ns.setLink('db', false);
    const cut = await connectFrom(ns, ns.link('db').rootAddress, port(server));
    expect(['EHOSTUNREACH', 'TIMEOUT']).toContain(cut);
    // The other link is a different path and stays up.
    const { stdout } = await run('ip', ['netns', 'exec', ns.name, 'ip', '-o', 'link', 'show', 'up']);
    expect(stdout).toContain(ns.link('service').namespaceInterface);
    await ns.setLink('db', true);
    expect(await connectFrom(ns, ns.link('db').rootAddress, port(server))).toBe('connected');
  });

  it('is removed with its links on destroy', async () => {
    const other = await NetworkNamespace.create('gone', ['bus']);
    const { rootInterface } = other.link('bus');
    await other.destroy();
    expect(await run('ip', ['netns', 'list']).then((r) => r.stdout)).not.toContain(other.name);
    await expect(run('ip', ['link', 'show', rootInterface])).rejects.toThrow();
  });
});
