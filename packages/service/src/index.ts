// Public API of @trellis/service; filled in by its issue.
export {};
