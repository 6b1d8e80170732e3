/**
 * Configuration from code or from a JSON file, and a watcher for hot reload: when the file
 * changes, it is parsed and checked, and only a valid configuration replaces the running one.
 */
import { readFileSync, watch } from 'node:fs';
import { ValidationError } from '@trellis/core';
import { type GatewayConfig, gatewayConfigSchema } from './config.js';

/** Checks a configuration object. Throws `ValidationError` naming every bad field. */
export function parseGatewayConfig(input: unknown): GatewayConfig {
  const r = gatewayConfigSchema.safeParse(input);
  if (!r.success) throw ValidationError.fromZod(r.error, 'gateway config');
  return r.data;
}

/**
 * Reads and checks a JSON configuration file. Throws `ValidationError` for an invalid
 * configuration, or the read/parse error.
 */
export function loadGatewayConfigFile(path: string): GatewayConfig {
  const text = readFileSync(path, 'utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ValidationError(
      `Gateway config ${path} is not valid JSON`,
      [{ path: '', message: String(error) }],
      {
        cause: error,
      },
    );
  }
  return parseGatewayConfig(json);
}

/**
 * Watches a configuration file and calls `apply` with each valid new version (debounced);
 * `onError` gets invalid ones, which are not applied. Returns the stop function.
 */
export function watchGatewayConfigFile(
  path: string,
  apply: (config: GatewayConfig) => void | Promise<void>,
  onError: (error: unknown) => void,
  debounceMs = 100,
): () => void {
  let timer: NodeJS.Timeout | undefined;
  const watcher = watch(path, () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      try {
        void Promise.resolve(apply(loadGatewayConfigFile(path))).catch(onError);
      } catch (error) {
        onError(error);
      }
    }, debounceMs);
  });
  return () => {
    if (timer) clearTimeout(timer);
    watcher.close();
  };
}
