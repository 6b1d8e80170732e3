/**
 * A small HTTP client for the shop's public API (through the gateway), used by the load
 * generator and the end-to-end tests. It returns status and body instead of throwing on 4xx,
 * because refusals are outcomes worth counting.
 */

/** An answer from the API. */
export interface ApiResponse<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
}

/** Calls the shop's API. */
export class ShopApi {
  constructor(
    readonly baseUrl: string,
    readonly token?: string,
  ) {}

  /** The same client, authenticated with `token`. */
  as(token: string): ShopApi {
    return new ShopApi(this.baseUrl, token);
  }

  /** Sends a request; network errors reject, HTTP errors resolve with their status. */
  async request<T = Record<string, unknown>>(
    method: string,
    path: string,
    options: { body?: unknown; headers?: Record<string, string>; timeoutMs?: number } = {},
  ): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers,
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
      signal: AbortSignal.timeout(options.timeoutMs ?? 60_000),
    });
    const text = await res.text();
    let body: unknown = text;
    if (text && (res.headers.get('content-type') ?? '').includes('json')) body = JSON.parse(text);
    return { status: res.status, body: body as T, headers: res.headers };
  }

  get<T = Record<string, unknown>>(path: string): Promise<ApiResponse<T>> {
    return this.request<T>('GET', path);
  }

  post<T = Record<string, unknown>>(
    path: string,
    body: unknown,
    headers?: Record<string, string>,
  ): Promise<ApiResponse<T>> {
    return this.request<T>('POST', path, { body, ...(headers ? { headers } : {}) });
  }

  /**
   * Logs in and returns the token and user id.
   *
   * Throws `Error` with the status when the login is refused.
   */
  async login(email: string, password: string): Promise<{ token: string; userId: string }> {
    const res = await this.post<{ token: string; user: { id: string } }>('/api/auth/login', {
      email,
      password,
    });
    if (res.status !== 200)
      throw new Error(`login of ${email} failed: ${res.status} ${JSON.stringify(res.body)}`);
    return { token: res.body.token, userId: res.body.user.id };
  }

  /**
   * Signs up (waiting out the per-IP limit on sign-ups when it is hit) and returns the token.
   *
   * Throws `Error` with the status when the sign-up is refused otherwise.
   */
  async signup(email: string, password: string, name: string): Promise<{ token: string; userId: string }> {
    for (;;) {
      const res = await this.post<{ token: string; user: { id: string } }>('/api/auth/signup', {
        email,
        password,
        name,
      });
      if (res.status === 201) return { token: res.body.token, userId: res.body.user.id };
      if (res.status !== 429)
        throw new Error(`sign-up of ${email} failed: ${res.status} ${JSON.stringify(res.body)}`);
      await new Promise((r) => setTimeout(r, 1000 * Number(res.headers.get('retry-after') ?? 1)));
    }
  }
}
