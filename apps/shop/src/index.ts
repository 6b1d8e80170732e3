// Public API of @trellis/shop; filled in by its issue.
export {};
