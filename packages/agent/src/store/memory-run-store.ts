import { ConflictError } from '@trellis/core';
import {
  type AgentRunRecord,
  pageSize,
  type RunQuery,
  type RunStore,
  type RunSummary,
  summarize,
} from './run-record.js';

interface Stored {
  version: number;
  /** The record as JSON: what a SQL store keeps too, so both behave alike (and copies are cheap). */
  json: string;
  summary: RunSummary;
}

/**
 * A {@link RunStore} in process memory: for tests and single-process demos. Records are kept
 * as JSON text, so callers can never mutate stored state by accident and values behave exactly
 * as they do after a round trip through `SqlRunStore`.
 */
export class InMemoryRunStore implements RunStore {
  private readonly runs = new Map<string, Stored>();

  async save(record: AgentRunRecord): Promise<AgentRunRecord> {
    const stored = this.runs.get(record.id);
    if (record.version === 0 && stored) throw new ConflictError(`Run ${record.id} already exists`);
    if (record.version !== 0 && stored?.version !== record.version) {
      throw new ConflictError(
        `Run ${record.id} was changed concurrently (expected version ${record.version})`,
      );
    }
    const next = { ...record, version: record.version + 1 };
    const json = JSON.stringify(next);
    this.runs.set(record.id, { version: next.version, json, summary: summarize(next) });
    return JSON.parse(json) as AgentRunRecord;
  }

  async get(id: string): Promise<AgentRunRecord | undefined> {
    const stored = this.runs.get(id);
    return stored ? (JSON.parse(stored.json) as AgentRunRecord) : undefined;
  }

  async list(query: RunQuery = {}): Promise<RunSummary[]> {
    const { before } = query;
    return [...this.runs.values()]
      .map((s) => s.summary)
      .filter(
        (r) =>
          (query.userId === undefined || r.userId === query.userId) &&
          (query.status === undefined || r.status === query.status) &&
          (before === undefined || r.id < before),
      )
      .sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
      .slice(0, pageSize(query.limit))
      .map((s) => ({ ...s, usage: { ...s.usage } }));
  }
}
