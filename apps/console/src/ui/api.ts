/**
 * The console's only door to the system: the gateway's `/api/auth/login` and the ops API at
 * `/api/ops/*` (admin role), with the operator's JWT. No other source of data.
 */

const TOKEN = 'trellis-console-token';

/** An error answered by the API, with its stable code. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function token(): string | null {
  return sessionStorage.getItem(TOKEN);
}

export function logout(): void {
  sessionStorage.removeItem(TOKEN);
}

/** The roles in a JWT (read only to tell the user early; the gateway checks them for real). */
export function rolesOf(jwt: string): string[] {
  try {
    const payload = JSON.parse(atob((jwt.split('.')[1] ?? '').replace(/-/g, '+').replace(/_/g, '/'))) as {
      roles?: unknown;
    };
    return Array.isArray(payload.roles) ? payload.roles.map(String) : [];
  } catch {
    return [];
  }
}

async function call<T>(method: string, path: string, body?: unknown, auth = true): Promise<T> {
  const headers: Record<string, string> = {};
  const t = token();
  if (auth && t) headers.authorization = `Bearer ${t}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, {
    method,
    headers,
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  const json = text ? (JSON.parse(text) as unknown) : null;
  if (!res.ok) {
    const e = (json as { error?: { code?: string; message?: string } } | null)?.error;
    if (res.status === 401) logout();
    throw new ApiError(res.status, e?.code ?? `HTTP_${res.status}`, e?.message ?? res.statusText);
  }
  return json as T;
}

/** Logs in; throws `ApiError` (401 for a wrong password, 403 for a non-admin). */
export async function login(email: string, password: string): Promise<void> {
  const { token: jwt } = await call<{ token: string }>('POST', '/api/auth/login', { email, password }, false);
  if (!rolesOf(jwt).includes('admin'))
    throw new ApiError(403, 'FORBIDDEN', 'The console is for administrators only');
  sessionStorage.setItem(TOKEN, jwt);
}

const q = (params: Record<string, string | number | undefined>) => {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
};

/** GET `/api/ops<path>` with query parameters. */
export function get<T>(path: string, params: Record<string, string | number | undefined> = {}): Promise<T> {
  return call<T>('GET', `/api/ops${path}${q(params)}`);
}

/** A write to `/api/ops<path>`. */
export function send<T>(method: 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T> {
  return call<T>(method, `/api/ops${path}`, body);
}
