import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createClient, endpoint, type Service } from '@trellis/service';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { upstreamClient } from './clients.js';

const whoami = endpoint({ method: 'GET', path: '/whoami', response: z.object({ name: z.string() }) });
const servers: Server[] = [];

async function instance(name: string): Promise<string> {
  const server = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ name }));
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

// A service's createClient without retries, so a test sees exactly one attempt per call.
const host = {
  createClient: ((o: Parameters<typeof createClient>[0]) =>
    createClient({ ...o, retry: false })) as Service['createClient'],
};

describe('upstreamClient', () => {
  it('spreads calls over every instance', async () => {
    const client = upstreamClient(host, 'users', [await instance('a'), await instance('b')], { whoami });
    const names = await Promise.all(Array.from({ length: 4 }, () => client.whoami()));
    expect(names.map((n) => n.name).sort()).toEqual(['a', 'a', 'b', 'b']);
  });

  it('moves on to the next instance when one refuses the connection', async () => {
    const dead = await instance('dead');
    await new Promise((r) => (servers.pop() as Server).close(r));
    const client = upstreamClient(host, 'users', [dead, await instance('alive')], { whoami });
    for (let i = 0; i < 4; i++) expect((await client.whoami()).name).toBe('alive');
  });

  it('returns the plain client for one instance, and refuses none', async () => {
    const client = upstreamClient(host, 'users', [await instance('only')], { whoami });
    expect((await client.whoami()).name).toBe('only');
    expect(() => upstreamClient(host, 'users', [], { whoami })).toThrow(RangeError);
  });
});
