import { isValidationError } from '@trellis/core';
import { describe, expect, it } from 'vitest';
import { parseMcpStdioEnv } from './gateway-session.js';

describe('the MCP stdio environment', () => {
  it('takes a token, or an email and password, and defaults the shop to localhost:8080', () => {
    expect(parseMcpStdioEnv({ TRELLIS_SHOP_TOKEN: 'jwt' })).toEqual({
      TRELLIS_SHOP_URL: 'http://127.0.0.1:8080',
      TRELLIS_SHOP_TOKEN: 'jwt',
    });
    expect(
      parseMcpStdioEnv({
        TRELLIS_SHOP_URL: 'https://shop.example',
        TRELLIS_SHOP_EMAIL: 'a@example.com',
        TRELLIS_SHOP_PASSWORD: 'pw',
      }),
    ).toMatchObject({ TRELLIS_SHOP_URL: 'https://shop.example', TRELLIS_SHOP_EMAIL: 'a@example.com' });
  });

  it('names the variable when credentials are missing or the URL is not http(s)', () => {
    const missing = capture(() => parseMcpStdioEnv({ TRELLIS_SHOP_EMAIL: 'a@example.com' }));
    expect(isValidationError(missing)).toBe(true);
    expect((missing as Error).message).toContain('TRELLIS_SHOP_TOKEN');
    const badUrl = capture(() => parseMcpStdioEnv({ TRELLIS_SHOP_URL: 'ftp://x', TRELLIS_SHOP_TOKEN: 't' }));
    expect((badUrl as Error).message).toContain('TRELLIS_SHOP_URL');
  });
});

function capture(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}
