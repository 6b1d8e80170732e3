// Public API of @trellis/saga; filled in by its issue.
export {};
