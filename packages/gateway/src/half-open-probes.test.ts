import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const script = fileURLToPath(new URL('./fixtures/half-open-probes.ts', import.meta.url));

describe('breakers of every instance HALF_OPEN with their probes in flight', () => {
  it('answers 503 NO_HEALTHY_UPSTREAM instead of passing the request between them forever', {
    timeout: 60_000,
  }, async () => {
    // Found by the chaos harness: the gateway process stopped answering anything, its main
    // thread spinning in microtasks. Run in a child so a regression fails here instead of
    // hanging the test worker.
    const out = await new Promise<{ stdout: string; stderr: string; killed: boolean }>((resolve) => {
      const child = execFile(
        process.execPath,
        ['--conditions=source', '--import', import.meta.resolve('tsx'), script],
        { timeout: 45_000, killSignal: 'SIGKILL' },
        (_error, stdout, stderr) => resolve({ stdout, stderr, killed: child.killed }),
      );
    });
    expect(out.killed, `the gateway hung: ${out.stderr}`).toBe(false);
    expect(JSON.parse(out.stdout.trim()), out.stderr).toEqual({ status: 503, code: 'NO_HEALTHY_UPSTREAM' });
  });
});
