/**
 * `npm run chaos -- [options]`: runs the chaos experiments (see `--help` and `--list`), prints
 * each experiment's block as it finishes and the table at the end, writes the JSON report when
 * asked, and exits 0 only when every experiment passed with every invariant holding (the codes:
 * `EXIT_CODES`).
 */
import { writeFileSync } from 'node:fs';
import { EXIT_CODES, errorExitCode, reportExitCode } from './exit-code.js';
import { EXPERIMENTS } from './experiments/catalogue.js';
import { HELP, parseCli } from './options.js';
import { formatMarkdown, formatReport } from './report.js';
import { runChaos } from './run-chaos.js';

const say = (line: string) => process.stdout.write(`${line}\n`);

let request: ReturnType<typeof parseCli>;
try {
  request = parseCli(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n\n${HELP}\n`);
  process.exit(64);
}
if (request.help) {
  say(HELP);
  process.exit(0);
}
if (request.list) {
  for (const e of EXPERIMENTS) say(`${e.name.padEnd(28)} ${e.category.padEnd(10)} ${e.fault}`);
  process.exit(0);
}

const t0 = Date.now();
const stamp = () => `[${((Date.now() - t0) / 1000).toFixed(0).padStart(4)} s]`;
// Ctrl-C (or a CI job's SIGTERM) stops the shop and its servers before exiting; a second one
// exits at once.
const interrupt = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.on(signal, () => {
    if (interrupt.signal.aborted) process.exit(130);
    interrupt.abort(new Error(`${signal}: interrupted`));
  });
try {
  const report = await runChaos({
    ...request.options,
    signal: interrupt.signal,
    log: (line) => say(line.includes('\n') ? `\n${line}\n` : `${stamp()} ${line}`),
  });
  say(`\n${formatReport(report)}`);
  if (request.json) {
    writeFileSync(request.json, `${JSON.stringify(report, null, 2)}\n`);
    say(`JSON report: ${request.json}`);
  }
  if (request.markdown) {
    writeFileSync(request.markdown, formatMarkdown(report));
    say(`Markdown report: ${request.markdown}`);
  }
  process.exit(reportExitCode(report));
} catch (error) {
  process.stderr.write(`chaos: ${(error as Error).message}\n`);
  process.exit(interrupt.signal.aborted ? EXIT_CODES.interrupted : errorExitCode(error));
}
