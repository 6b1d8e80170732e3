// Public API of @trellis/resilience; filled in by its issue.
export {};
