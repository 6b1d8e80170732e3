// Public API of @trellis/bench; filled in by its issue.
export {};
