// Conformance suites for @trellis/agent contracts (imports vitest; kept off the main entry).
export {
  describeRunStoreConformance,
  type RunStoreFixture,
  sampleRunRecord,
} from './run-store-conformance.js';
