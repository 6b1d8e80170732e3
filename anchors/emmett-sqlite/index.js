// Re-exported from here so the bench resolves this workspace's own Emmett copy.

export * as emmett from '@event-driven-io/emmett';
export * from '@event-driven-io/emmett-sqlite';
