import { isValidationError } from '@trellis/core';
import type { DeadLetter } from '@trellis/messaging';
import type { Command, CommandIO } from '../command.js';
import { openDeadLetters } from '../open-store.js';
import { type DeadLetterArgs, parseDeadLetterArgs } from './dead-letters-args.js';

const USAGE = `usage: trellis dead-letters <action> --db <sqlite-file | postgres-url> [filters] [options]

actions:
  list             dead letters matching the filters, oldest first
  show <id>        one dead letter in full: payload, headers, error and stack, timings
  count            how many match
  replay           deliver the matching messages again, to the group that failed them only
  purge            delete the matching dead letters for good

  replay and purge need at least one filter, or --all.

filters (all must match):
  --id <id>            a dead letter id (repeatable)
  --group <name>       consumer group
  --topic <pattern>    topic or pattern, e.g. order.* or payment.>
  --key <key>          message key
  --reason <reason>    failed | invalid-payload | max-deliveries
  --error-code <code>  the error's code, e.g. VALIDATION_FAILED
  --since <time>       dead-lettered at or after: ISO date, epoch ms, or 30m / 2h / 7d ago
  --until <time>       dead-lettered before

options:
  --db <target>   the SQLite bus file (or a service's SQLite database), or a postgres:// URL;
                  defaults to $TRELLIS_DB
  --json          machine-readable output
  --limit <n>     list at most n (default 100); --offset <n> skips n
  --dry-run       replay/purge: only report how many would be affected

examples:
  trellis dead-letters list --db ./data/bus.db --group payments --since 1h
  trellis dead-letters show 0190f7c2-… --db ./data/bus.db
  trellis dead-letters replay --db postgres://localhost/orders --error-code UPSTREAM_DOWN
  trellis dead-letters purge --db ./data/bus.db --topic order.* --until 7d
`;

/** `trellis dead-letters`: list, inspect, replay and purge dead letters. */
export const command: Command = {
  name: 'dead-letters',
  summary: 'List, inspect, replay and purge dead letters (SQLite file or PostgreSQL URL)',
  usage: USAGE,
  async run(argv, io) {
    let args: DeadLetterArgs;
    try {
      args = parseDeadLetterArgs(argv);
    } catch (error) {
      io.stderr(`${isValidationError(error) ? error.message : (error as Error).message}\n\n${USAGE}`);
      return 2;
    }
    if ((args.action === 'replay' || args.action === 'purge') && !args.filtered && !args.all) {
      io.stderr(`${args.action} needs a filter or --all (refusing to touch every dead letter by accident)\n`);
      return 2;
    }
    const { store, close } = await openDeadLetters(args.db);
    try {
      return await act(args, store, io);
    } finally {
      await close();
    }
  },
};

async function act(
  args: DeadLetterArgs,
  store: Awaited<ReturnType<typeof openDeadLetters>>['store'],
  io: CommandIO,
) {
  switch (args.action) {
    case 'list': {
      const list = await store.list(args.filter, { limit: args.limit, offset: args.offset });
      io.stdout(args.json ? `${JSON.stringify(list, null, 2)}\n` : table(list));
      return 0;
    }
    case 'show': {
      const dl = await store.get(args.id as string);
      if (!dl) {
        io.stderr(`No dead letter with id ${args.id}\n`);
        return 1;
      }
      io.stdout(args.json ? `${JSON.stringify(dl, null, 2)}\n` : details(dl));
      return 0;
    }
    case 'count': {
      const n = await store.count(args.filter);
      io.stdout(args.json ? `${JSON.stringify({ count: n })}\n` : `${n}\n`);
      return 0;
    }
    case 'replay':
    case 'purge': {
      const n = args.dryRun
        ? await store.count(args.filter)
        : args.action === 'replay'
          ? await store.replay(args.filter)
          : await store.purge(args.filter);
      const verb = args.action === 'replay' ? 'replayed' : 'purged';
      if (args.json) io.stdout(`${JSON.stringify({ [verb]: n, dryRun: args.dryRun })}\n`);
      else io.stdout(args.dryRun ? `would have ${verb} ${n}\n` : `${verb} ${n}\n`);
      return 0;
    }
  }
}

function table(list: DeadLetter[]): string {
  if (list.length === 0) return 'no dead letters\n';
  const rows = list.map((d) => [
    d.id,
    new Date(d.deadLetteredAt).toISOString(),
    d.group,
    d.topic,
    d.key ?? '',
    String(d.attempts),
    d.reason,
    `${d.error.code ? `${d.error.code}: ` : ''}${d.error.message}`.slice(0, 80),
  ]);
  const head = ['ID', 'DEAD-LETTERED', 'GROUP', 'TOPIC', 'KEY', 'TRIES', 'REASON', 'ERROR'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]) =>
    `${cells
      .map((c, i) => c.padEnd(widths[i] as number))
      .join('  ')
      .trimEnd()}\n`;
  return line(head) + rows.map(line).join('');
}

function details(d: DeadLetter): string {
  const time = (ms: number | undefined) => (ms === undefined ? '-' : new Date(ms).toISOString());
  return [
    `id:              ${d.id}`,
    `message id:      ${d.messageId}`,
    `group:           ${d.group} (pattern ${d.pattern})`,
    `topic:           ${d.topic}`,
    `key:             ${d.key ?? '-'}`,
    `reason:          ${d.reason} after ${d.attempts} attempt(s), transport ${d.transport}`,
    `published:       ${time(d.publishedAt)}`,
    `first attempt:   ${time(d.firstAttemptAt)}`,
    `last attempt:    ${time(d.lastAttemptAt)}`,
    `dead-lettered:   ${time(d.deadLetteredAt)}`,
    `error:           ${d.error.name}${d.error.code ? ` [${d.error.code}]` : ''}: ${d.error.message}`,
    ...(d.error.details === undefined ? [] : [`error details:   ${JSON.stringify(d.error.details)}`]),
    `headers:         ${JSON.stringify(d.headers)}`,
    `payload:         ${JSON.stringify(d.payload, null, 2).replace(/\n/g, '\n                 ')}`,
    ...(d.error.stack ? ['stack:', ...d.error.stack.split('\n').map((l) => `  ${l}`)] : []),
    '',
  ].join('\n');
}
