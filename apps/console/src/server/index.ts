/**
 * The console's server side: where its built files are, and building them when they are
 * missing or older than the sources (so `npm start` and the tests need no separate build
 * step). The build runs Vite in-process into a temporary directory that replaces `dist` in
 * one rename, so a process serving the old build never sees a half-written one.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Directory of the built console (`index.html`, `assets/`). */
export const consoleDistDir = join(root, 'dist');

function newestMtime(path: string): number {
  const s = statSync(path);
  if (!s.isDirectory()) return s.mtimeMs;
  let newest = s.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

/** True when `dist` is missing or older than any source file. */
export function consoleBuildStale(): boolean {
  const index = join(consoleDistDir, 'index.html');
  if (!existsSync(index)) return true;
  const sources = Math.max(
    newestMtime(join(root, 'src', 'ui')),
    statSync(join(root, 'vite.config.ts')).mtimeMs,
  );
  return statSync(index).mtimeMs < sources;
}

let building: Promise<string> | undefined;

/**
 * Builds the console when its build is missing or stale; resolves to the dist directory.
 *
 * Throws when Vite fails (the message names the file and line).
 */
export function ensureConsoleBuilt(options: { force?: boolean } = {}): Promise<string> {
  if (!options.force && !consoleBuildStale()) return Promise.resolve(consoleDistDir);
  building ??= (async () => {
    const { build } = await import('vite');
    const tmp = join(root, `.dist-${process.pid}-${randomBytes(4).toString('hex')}`);
    try {
      await build({
        configFile: join(root, 'vite.config.ts'),
        build: { outDir: tmp, emptyOutDir: true },
        logLevel: 'error',
      });
      // Another process may have finished first: the newer build wins either way, and a rename
      // that loses the race to another build's rename leaves that (equally fresh) build in place.
      rmSync(consoleDistDir, { recursive: true, force: true });
      try {
        renameSync(tmp, consoleDistDir);
      } catch (error) {
        if (!existsSync(join(consoleDistDir, 'index.html'))) throw error;
      }
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
    return consoleDistDir;
  })().finally(() => {
    building = undefined;
  });
  return building;
}
