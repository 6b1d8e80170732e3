/**
 * The HTTP plumbing shared by the provider simulators: a real server on loopback, JSON and
 * SSE responses, a record of every request, and a script of turns to answer with.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request as the simulator received it. */
export interface SimRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: unknown;
}

/** One scripted tool call in a simulated model turn. */
export interface SimToolCall {
  id?: string;
  name: string;
  input: unknown;
  /** Send these exact argument characters instead of `JSON.stringify(input)` (malformed JSON). */
  rawArguments?: string;
}

/** A simulated model turn. */
export interface SimTurn {
  text?: string;
  toolCalls?: SimToolCall[];
  /** The provider's own stop/finish reason (default derived from the content). */
  stopReason?: string;
  usage?: { input: number; output: number };
}

/** A simulated provider failure, answered in the provider's real error format. */
export interface SimFailure {
  fail: { status: number; type: string; message: string; headers?: Record<string, string> };
}

/** Holds the response open until the client gives up (for deadline and abort tests). */
export interface SimHang {
  hang: true;
}

/** What the next request is answered with: fixed, or computed from the request body. */
export type SimScriptEntry =
  | SimTurn
  | SimFailure
  | SimHang
  | ((body: Record<string, unknown>) => SimTurn | SimFailure);

/** Shared options of the simulators. */
export interface SimulatorOptions {
  /** The API key the simulator accepts (requests with another key get the provider's 401). */
  apiKey?: string;
  /** Turns to answer with, in order. More can be added with `enqueue`. */
  script?: SimScriptEntry[];
  /** Delay between SSE events, to exercise real streaming (default 0). */
  chunkDelayMs?: number;
  /** Split streamed text and argument JSON into pieces of this many characters (default 7). */
  chunkSize?: number;
}

/** Base of the provider simulators: start, record, script, close. */
export abstract class SimServer {
  /** Every request received, oldest first. */
  readonly requests: SimRequest[] = [];
  protected readonly script: SimScriptEntry[];
  protected readonly options: SimulatorOptions;
  private server: Server | undefined;
  private baseUrl = '';
  private readonly open = new Set<ServerResponse>();

  protected constructor(options: SimulatorOptions) {
    this.options = options;
    this.script = [...(options.script ?? [])];
  }

  /** The base URL to give the SDK (`baseURL`). */
  get url(): string {
    return this.baseUrl;
  }

  /** Appends turns to the script. */
  enqueue(...entries: SimScriptEntry[]): void {
    this.script.push(...entries);
  }

  /** Number of scripted entries not yet used. */
  remaining(): number {
    return this.script.length;
  }

  protected async listen(pathPrefix: string): Promise<void> {
    this.server = createServer((req, res) => {
      this.open.add(res);
      res.on('close', () => this.open.delete(res));
      void this.receive(req, res).catch((err: unknown) => {
        if (!res.headersSent) this.json(res, 500, { error: String(err) });
        else res.end();
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.baseUrl = `http://127.0.0.1:${port}${pathPrefix}`;
  }

  /** Stops the server, ending any held responses. */
  async close(): Promise<void> {
    for (const res of this.open) res.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  protected abstract handle(request: SimRequest, res: ServerResponse): Promise<void>;

  private async receive(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = text;
    }
    const request: SimRequest = {
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      headers: req.headers,
      body,
    };
    this.requests.push(request);
    await this.handle(request, res);
  }

  /** Takes the next scripted entry; undefined when the script is exhausted. */
  protected next(body: Record<string, unknown>): SimTurn | SimFailure | SimHang | undefined {
    const entry = this.script.shift();
    return typeof entry === 'function' ? entry(body) : entry;
  }

  protected json(
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ): void {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  }

  /** Writes SSE events (`event:` line only when named), pausing `chunkDelayMs` between them. */
  protected async sse(res: ServerResponse, events: Array<{ event?: string; data: string }>): Promise<void> {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    for (const e of events) {
      if (res.destroyed) return;
      res.write(`${e.event ? `event: ${e.event}\n` : ''}data: ${e.data}\n\n`);
      if (this.options.chunkDelayMs) await new Promise((r) => setTimeout(r, this.options.chunkDelayMs));
    }
    res.end();
  }

  /** Holds a response until the client disconnects. */
  protected hang(res: ServerResponse): Promise<void> {
    return new Promise((resolve) => res.on('close', () => resolve()));
  }

  /** Splits text into stream pieces. */
  protected pieces(text: string): string[] {
    const size = this.options.chunkSize ?? 7;
    const out: string[] = [];
    for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
    return out;
  }
}

/** Rough token count for simulated usage (4 characters a token). */
export function simTokens(value: unknown): number {
  return Math.max(1, Math.ceil(JSON.stringify(value ?? '').length / 4));
}
