/**
 * `@trellis/saga/crash-test`: the pieces of the real-process crash proof, shared by the
 * backends' crash tests. The child side ({@link runSagaCrashChild}) runs outside vitest.
 */
export { CRASH_SCHEMA, type CrashChildOptions, runSagaCrashChild } from './child.js';
export {
  type ChildSpec,
  type CrashReport,
  inspectCrash,
  killMidway,
  type RunningChild,
  randomBetween,
  startChild,
} from './rounds.js';
