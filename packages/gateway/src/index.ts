// Public API of @trellis/gateway; filled in by its issue.
export {};
