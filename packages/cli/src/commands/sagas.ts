import { isValidationError } from '@trellis/core';
import { isSagaNotFoundError, isSagaStateError, SagaInspector } from '@trellis/saga';
import type { Command, CommandIO } from '../command.js';
import { openSagas } from '../open-store.js';
import { parseSagaArgs, type SagaArgs } from './sagas-args.js';
import { countsLine, instanceTable, timelineText } from './sagas-format.js';

const USAGE = `usage: trellis sagas <action> --db <sqlite-file | postgres-url> [options]

actions:
  list            saga instances, newest first (with totals per status)
  show <id>       one instance: state, context, per-step attempts/errors/durations, full timeline
  resume <id>     send a failed saga back to where it failed (retry its compensation, or the step
                  after the pivot); the next worker that runs this saga type picks it up
  counts          how many instances are in each status

options:
  --db <target>      a service's SQLite file or a postgres:// URL; defaults to $TRELLIS_DB
  --status <s>       list: running | compensating | completed | compensated | failed
  --name <saga>      list: only this saga type
  --limit <n>        list: at most n (default 50); --before <id> pages on from that instance
  --note <text>      resume: recorded on the timeline (who, why, ticket)
  --json             machine-readable output

examples:
  trellis sagas list --db ./data/orders.db --status failed
  trellis sagas show order-7f3a --db postgres://localhost/orders
  trellis sagas resume order-7f3a --db postgres://localhost/orders --note "refund API fixed, INC-42"
`;

/** `trellis sagas`: list, inspect and resume saga instances. */
export const command: Command = {
  name: 'sagas',
  summary: 'List saga instances by status, show one timeline, resume a failed saga',
  usage: USAGE,
  async run(argv, io) {
    let args: SagaArgs;
    try {
      args = parseSagaArgs(argv);
    } catch (error) {
      io.stderr(`${isValidationError(error) ? error.message : (error as Error).message}\n\n${USAGE}`);
      return 2;
    }
    const { store, close } = await openSagas(args.db);
    try {
      return await act(args, new SagaInspector(store), io);
    } catch (error) {
      if (isSagaNotFoundError(error) || isSagaStateError(error)) {
        io.stderr(`${error.message}\n`);
        return 1;
      }
      throw error;
    } finally {
      await close();
    }
  },
};

async function act(args: SagaArgs, inspector: SagaInspector, io: CommandIO): Promise<number> {
  const out = (value: unknown, text: string) =>
    io.stdout(args.json ? `${JSON.stringify(value, null, 2)}\n` : text);
  switch (args.action) {
    case 'list': {
      const list = await inspector.list({
        ...(args.status ? { status: args.status } : {}),
        ...(args.name ? { name: args.name } : {}),
        ...(args.before ? { before: args.before } : {}),
        limit: args.limit,
      });
      const counts = await inspector.counts();
      out({ counts, instances: list }, countsLine(counts) + instanceTable(list));
      return 0;
    }
    case 'show': {
      const timeline = await inspector.timeline(args.id as string);
      out(timeline, timelineText(timeline));
      return 0;
    }
    case 'resume': {
      const reopened = await inspector.requestResume(args.id as string, args.note);
      out(
        reopened,
        `saga ${reopened.id} (${reopened.name}) is ${reopened.status} again at step index ${reopened.step}; ` +
          'a worker running this saga type will pick it up\n',
      );
      return 0;
    }
    case 'counts': {
      const counts = await inspector.counts();
      out(counts, countsLine(counts));
      return 0;
    }
  }
}
