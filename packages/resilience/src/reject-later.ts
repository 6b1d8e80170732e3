/**
 * Fast rejections, rejected one microtask late (internal). A promise rejected before anyone
 * handles it goes through Node's unhandled-rejection bookkeeping (recorded, then unrecorded
 * when the caller's `await` or `catch` arrives), which doubles the cost of a rejection for
 * an awaiting caller. Rejecting in a reaction instead lets the caller attach its handler
 * first. A caller that never handles it still gets the usual unhandled-rejection report.
 */
const settled: Promise<void> = Promise.resolve();

/** A promise that rejects with `error` after the current synchronous code has run. */
export function rejectLater<T = never>(error: unknown): Promise<T> {
  return settled.then(() => {
    throw error;
  });
}
