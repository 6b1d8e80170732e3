#!/usr/bin/env node
// The `trellis` command. Installed from npm, it runs the build in dist/. Inside the Trellis
// workspace (sources present, nothing built), it runs the TypeScript sources through tsx with
// the "source" export condition, exactly like the tests and `npm start` do.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const built = fileURLToPath(new URL('../dist/run.js', import.meta.url));
const source = fileURLToPath(new URL('../src/run.ts', import.meta.url));

if (existsSync(source) && process.env.TRELLIS_CLI_USE_DIST !== '1') {
  // Resolved from here, so the command works from any working directory.
  const tsx = import.meta.resolve('tsx');
  const result = spawnSync(
    process.execPath,
    ['--conditions=source', '--import', tsx, source, ...process.argv.slice(2)],
    { stdio: 'inherit' },
  );
  process.exit(result.status ?? 1);
} else {
  await import(built);
}
