// Public API of @trellis/eventstore; filled in by its issue.
export {};
