export * from './types.ts';
export {
  enqueue,
  enqueueRawIds,
  enqueueMissingRawIds,
  enqueueRawWindow,
  type RawWindowPage,
  claim,
  complete,
  fail,
  skip,
  release,
  requeueStale,
  heartbeat,
  stats,
  outstanding,
  backoffSeconds,
  type EnqueueInput,
  type FailOutcome,
} from './queue.ts';
export { waitForWork, type WaitOptions, type WakeReason } from './wait.ts';
