// Public API of @trellis/agent; filled in by its issue.
export {};
