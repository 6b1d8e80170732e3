// Public API of @trellis/nats; filled in by its issue.
export {};
