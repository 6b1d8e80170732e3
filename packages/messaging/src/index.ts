// Public API of @trellis/messaging; filled in by its issue.
export {};
