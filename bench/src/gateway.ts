/**
 * Gateway throughput and latency with autocannon (-c 50, loopback): a small Fastify upstream
 * called directly, through the Trellis gateway with JWT auth + rate limit + per-instance
 * breaker on, through a plain @fastify/http-proxy with no policies, and through nginx when it
 * is installed. Every server runs in its own child process; autocannon runs in this one.
 * Rounds are interleaved and the best round of each subject is kept (the machine is shared).
 *
 * `npm run bench -- gateway [--quick] [--access-log]`
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InternalTokenSigner } from '@trellis/service';
import { type BenchRow, report } from './lib/report.js';

const SECRET = 'bench-hs256-secret-that-is-long-enough!!';
const INTERNAL = 'bench-internal-token-secret-32-bytes!!';
const role = process.argv.find((a) => a.startsWith('--role='))?.slice(7);

async function child(): Promise<void> {
  const port = Number(process.env.PORT);
  const upstream = process.env.UPSTREAM ?? '';
  if (role === 'upstream') {
    const Fastify = (await import('fastify')).default;
    const app = Fastify();
    app.get('/*', async () => ({ hello: 'world', items: [1, 2, 3] }));
    await app.listen({ port, host: '127.0.0.1' });
  } else if (role === 'plain') {
    const Fastify = (await import('fastify')).default;
    const proxy = (await import('@fastify/http-proxy')).default;
    const app = Fastify();
    await app.register(proxy, { upstream, prefix: '/api', rewritePrefix: '/api' });
    await app.listen({ port, host: '127.0.0.1' });
  } else if (role === 'trellis') {
    const { createGateway } = await import('@trellis/gateway');
    const gateway = createGateway({
      logger: { level: process.env.ACCESS_LOG === '1' ? 'info' : 'warn' },
      metrics: undefined,
      config: {
        upstreams: { api: { instances: [upstream], connections: 64 } },
        routes: [{ prefix: '/api', upstream: 'api', auth: 'required' }],
        auth: { issuer: 'bench', audience: 'bench', hs256Secret: SECRET },
        rateLimit: { default: { capacity: 1e9, refillPerSecond: 1e9 } },
        identity: { internalTokenSecret: INTERNAL },
        accessLog: process.env.ACCESS_LOG === '1',
      },
    });
    await gateway.listen({ port });
  }
  // A clean exit on SIGINT lets `node --cpu-prof` write its profile.
  process.once('SIGINT', () => process.exit(0));
  process.stdout.write('READY\n');
}

type Autocannon = (opts: Record<string, unknown>) => Promise<{
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
}>;

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const accessLog = process.argv.includes('--access-log');
  const rounds = quick ? 1 : 5;
  const seconds = quick ? 3 : 6;
  const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;
  const self = fileURLToPath(import.meta.url);
  const children: ChildProcess[] = [];
  const start = (name: string, port: number, env: Record<string, string>) =>
    new Promise<void>((resolve, reject) => {
      const c = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', self, `--role=${name}`], {
        env: { ...process.env, PORT: String(port), ...env },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      children.push(c);
      c.stdout?.on('data', (d: Buffer) => {
        if (d.toString().includes('READY')) resolve();
      });
      c.once('exit', (code) => reject(new Error(`${name} exited with ${code}`)));
    });
  const upstream = 'http://127.0.0.1:4101';
  const targets: Array<{ name: string; url: string; pid?: () => number | undefined }> = [
    { name: 'direct upstream', url: 'http://127.0.0.1:4101/api/items', pid: () => children[0]?.pid },
    {
      name: 'plain @fastify/http-proxy',
      url: 'http://127.0.0.1:4102/api/items',
      pid: () => children[1]?.pid,
    },
    {
      name: 'Trellis gateway (auth + rate limit + breaker)',
      url: 'http://127.0.0.1:4103/api/items',
      pid: () => children[2]?.pid,
    },
  ];
  try {
    await start('upstream', 4101, {});
    await start('plain', 4102, { UPSTREAM: upstream });
    await start('trellis', 4103, { UPSTREAM: upstream, ACCESS_LOG: accessLog ? '1' : '0' });
    const nginx = startNginx(upstream, 4104);
    if (nginx) {
      children.push(nginx.process);
      await nginx.ready;
      targets.push({
        name: 'nginx (1 worker, keep-alive upstream)',
        url: 'http://127.0.0.1:4104/api/items',
        pid: () => nginxWorker(nginx.process.pid),
      });
    }
    // Any HS256 JWT with the right iss/aud works; the service's signer makes one.
    const token = await new InternalTokenSigner({
      key: SECRET,
      issuer: 'bench',
      audience: 'bench',
      ttlSeconds: 3600,
    }).sign({
      subject: 'bench-user',
      kind: 'user',
      scopes: ['bench'],
      roles: [],
    });
    const headers = { authorization: `Bearer ${token}` };
    const best = new Map<string, { rps: number; p99: number; p50: number; non2xx: number }>();
    // CPU time of the server process per request: steadier than req/s on a shared machine.
    const cpuPerRequest = new Map<string, number>();
    for (const t of targets) await autocannon({ url: t.url, connections: 50, duration: 2, headers }); // warm-up
    for (let r = 0; r < rounds; r++) {
      for (const t of targets) {
        const pid = t.pid?.();
        const cpu0 = cpuMs(pid);
        const res = await autocannon({ url: t.url, connections: 50, duration: seconds, headers });
        const us = ((cpuMs(pid) - cpu0) * 1000) / Math.max(1, res.requests.total);
        cpuPerRequest.set(t.name, Math.min(cpuPerRequest.get(t.name) ?? Number.POSITIVE_INFINITY, us));
        const prev = best.get(t.name);
        if (!prev || res.requests.average > prev.rps) {
          best.set(t.name, {
            rps: res.requests.average,
            p99: res.latency.p99,
            p50: res.latency.p50,
            non2xx: res.non2xx + res.errors,
          });
        }
        console.log(
          `round ${r + 1} ${t.name}: ${Math.round(res.requests.average)} req/s, p99 ${res.latency.p99} ms, ${us.toFixed(1)} µs CPU/req`,
        );
      }
    }
    const direct = best.get(targets[0]?.name ?? '') as { rps: number; p99: number };
    const plain = best.get(targets[1]?.name ?? '') as { rps: number; p99: number };
    const trellis = best.get(targets[2]?.name ?? '') as { rps: number; p99: number };
    const nginxResult = nginx ? best.get(targets[3]?.name ?? '') : undefined;
    const rows: BenchRow[] = targets.map((t) => {
      const b = best.get(t.name) as { rps: number; p99: number; p50: number; non2xx: number };
      return {
        name: t.name,
        value: b.rps,
        unit: 'req/s',
        ratio: b.rps / direct.rps,
        ratioTo: 'direct upstream',
        extra: {
          p50_ms: b.p50,
          p99_ms: b.p99,
          non2xx: b.non2xx,
          cpu_us_per_req: Number((cpuPerRequest.get(t.name) ?? 0).toFixed(1)),
        },
      };
    });
    const summary: BenchRow = {
      name: 'Trellis gateway ÷ plain proxy',
      value: trellis.rps / plain.rps,
      unit: '×',
      extra: {
        vs_direct: Number((trellis.rps / direct.rps).toFixed(3)),
        ...(nginxResult ? { vs_nginx: Number((trellis.rps / nginxResult.rps).toFixed(3)) } : {}),
        added_p99_ms_vs_direct: trellis.p99 - direct.p99,
        p99_vs_plain_ms: trellis.p99 - plain.p99,
        cpu_per_req_vs_plain: Number(
          (
            (cpuPerRequest.get(targets[2]?.name ?? '') ?? 0) /
            (cpuPerRequest.get(targets[1]?.name ?? '') ?? 1)
          ).toFixed(3),
        ),
      },
    };
    report(
      'gateway',
      [...rows, summary],
      [
        `autocannon -c 50 -d ${seconds}s, best of ${rounds} interleaved rounds, loopback; load generator shares the machine`,
        'cpu_us_per_req: CPU time of the server process per request (best round); steadier than req/s when the machine is shared',
        'Trellis: HS256 JWT verified (cached), per-client token bucket, per-instance circuit breaker, internal identity token, P2C, metrics',
        `access log ${accessLog ? 'on (pino JSON to stdout of the child, discarded)' : 'off (pass --access-log to include it)'}`,
        nginx
          ? 'nginx: 1 worker, upstream keepalive 64'
          : 'nginx not installed: row omitted (apt-get install nginx-light to add it)',
      ],
    );
  } finally {
    for (const c of children) c.kill('SIGTERM');
  }
}

/** User + system CPU time of a process in ms (Linux), 0 when unknown. */
function cpuMs(pid: number | undefined): number {
  if (pid === undefined || !existsSync(`/proc/${pid}/stat`)) return 0;
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10; // clock ticks of 10 ms
}

/** The pid of nginx's worker (the master only forks it). */
function nginxWorker(master: number | undefined): number | undefined {
  if (master === undefined) return undefined;
  const file = `/proc/${master}/task/${master}/children`;
  if (!existsSync(file)) return undefined;
  const first = readFileSync(file, 'utf8').trim().split(/\s+/)[0];
  return first ? Number(first) : undefined;
}

function startNginx(
  upstream: string,
  port: number,
): { process: ChildProcess; ready: Promise<void> } | undefined {
  const bin = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => spawnSync('test', ['-x', p]).status === 0);
  if (!bin) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'trellis-nginx-'));
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream api { server ${new URL(upstream).host}; keepalive 64; }
  server {
    listen 127.0.0.1:${port};
    location /api/ { proxy_pass http://api; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
`,
  );
  const p = spawn(bin, ['-c', conf, '-g', 'daemon off;'], { stdio: 'inherit' });
  const ready = new Promise<void>((resolve) => setTimeout(resolve, 500));
  return { process: p, ready };
}

if (role) await child();
else await main();
