// Public API of @trellis/cli; commands register in src/commands.
export {};
