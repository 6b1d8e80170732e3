import { ConflictError } from '@trellis/core';
import {
  type AgentRunRecord,
  pageSize,
  type RunQuery,
  type RunStore,
  type RunSummary,
  summarize,
} from './run-record.js';

/**
 * A {@link RunStore} in process memory: for tests and single-process demos. Records are
 * deep-copied in and out, so callers can never mutate stored state by accident.
 */
export class InMemoryRunStore implements RunStore {
  private readonly runs = new Map<string, AgentRunRecord>();

  async save(record: AgentRunRecord): Promise<AgentRunRecord> {
    const stored = this.runs.get(record.id);
    if (record.version === 0 && stored) throw new ConflictError(`Run ${record.id} already exists`);
    if (record.version !== 0 && stored?.version !== record.version) {
      throw new ConflictError(
        `Run ${record.id} was changed concurrently (expected version ${record.version})`,
      );
    }
    const next = structuredClone({ ...record, version: record.version + 1 });
    this.runs.set(record.id, next);
    return structuredClone(next);
  }

  async get(id: string): Promise<AgentRunRecord | undefined> {
    const stored = this.runs.get(id);
    return stored ? structuredClone(stored) : undefined;
  }

  async list(query: RunQuery = {}): Promise<RunSummary[]> {
    const { before } = query;
    return [...this.runs.values()]
      .filter(
        (r) =>
          (query.userId === undefined || r.userId === query.userId) &&
          (query.status === undefined || r.status === query.status) &&
          (before === undefined || r.id < before),
      )
      .sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
      .slice(0, pageSize(query.limit))
      .map(summarize);
  }
}
