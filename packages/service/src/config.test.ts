import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadConfig, loadConfigOrExit, serviceConfigSchema } from './config.js';
import { ConfigError } from './errors.js';
import { internalAuthFromConfig } from './internal-auth.js';

describe('loadConfig', () => {
  it('applies defaults and coerces numbers and booleans', () => {
    const c = loadConfig(serviceConfigSchema, { env: { PORT: '8080', METRICS: 'false' } });
    expect(c).toMatchObject({
      PORT: 8080,
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      METRICS: false,
      INTERNAL_AUTH: 'off',
    });
  });

  it('reads only prefixed variables when a prefix is given', () => {
    const c = loadConfig(serviceConfigSchema, { env: { ORDERS_PORT: '4000', PORT: '1' }, prefix: 'ORDERS_' });
    expect(c.PORT).toBe(4000);
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig(serviceConfigSchema, { env: { PORT: '' } }).PORT).toBe(3000);
  });

  it('throws one ConfigError naming every bad variable and what it got', () => {
    const schema = serviceConfigSchema.extend({ DATABASE_URL: z.url() });
    let error: unknown;
    try {
      loadConfig(schema, { env: { PORT: 'eighty', LOG_LEVEL: 'loud' } });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const e = error as ConfigError;
    expect(e.problems).toHaveLength(3);
    expect(e.message).toMatch(/PORT: .*\(got "eighty"\)/);
    expect(e.message).toMatch(/LOG_LEVEL: .*\(got "loud"\)/);
    expect(e.message).toMatch(/DATABASE_URL: .*\(not set\)/);
  });

  it('loadConfigOrExit prints the problems and exits with 78', () => {
    const printed: string[] = [];
    const exit = ((code: number) => {
      throw new Error(`exit ${code}`);
    }) as (code: number) => never;
    expect(() =>
      loadConfigOrExit(serviceConfigSchema, { env: { PORT: '-1' }, exit, print: (m) => printed.push(m) }),
    ).toThrow('exit 78');
    expect(printed[0]).toContain('Invalid configuration');
    expect(printed[0]).toContain('PORT');
  });
});

describe('internalAuthFromConfig', () => {
  it('builds the verifier from the environment, and refuses a mode without a secret', () => {
    const off = loadConfig(serviceConfigSchema, { env: {} });
    expect(internalAuthFromConfig(off)).toEqual({ mode: 'off' });
    const on = loadConfig(serviceConfigSchema, {
      env: { INTERNAL_AUTH: 'required', INTERNAL_TOKEN_SECRET: 's'.repeat(32) },
    });
    expect(internalAuthFromConfig(on).mode).toBe('required');
    expect(internalAuthFromConfig(on).verifier).toBeDefined();
    const missing = loadConfig(serviceConfigSchema, { env: { INTERNAL_AUTH: 'optional' } });
    expect(() => internalAuthFromConfig(missing)).toThrow(/INTERNAL_TOKEN_SECRET: required/);
    expect(() => loadConfig(serviceConfigSchema, { env: { INTERNAL_TOKEN_SECRET: 'short' } })).toThrow(
      /at least 32/,
    );
  });
});
