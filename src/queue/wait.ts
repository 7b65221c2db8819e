import type { Database } from '../db/index.ts';
import { QUEUE_CHANNEL } from './types.ts';

export type WakeReason = 'notified' | 'timeout' | 'aborted';

interface Waiter {
  pipelineVersion: string;
  wake: (reason: WakeReason) => void;
}

// One LISTEN per database handle, shared by every waiter in the process.
const hubs = new WeakMap<Database, Promise<Set<Waiter>>>();

function hubFor(db: Database): Promise<Set<Waiter>> {
  let hub = hubs.get(db);
  if (!hub) {
    const waiters = new Set<Waiter>();
    hub = db
      .listen(QUEUE_CHANNEL, (version) => {
        for (const w of waiters) if (w.pipelineVersion === version) w.wake('notified');
      })
      .then(() => waiters);
    hub.catch(() => hubs.delete(db)); // fall back to polling; try LISTEN again next time
    hubs.set(db, hub);
  }
  return hub;
}

export interface WaitOptions {
  /** Poll fallback: give up waiting after this long even without a notification. */
  timeoutMs: number;
  signal?: AbortSignal;
}

/**
 * Resolve when new work of `pipelineVersion` is announced (NOTIFY from enqueue or requeue), when `timeoutMs`
 * passes, or when `signal` aborts. Callers claim after every wake-up, so a missed notification costs at most
 * one timeout.
 */
export async function waitForWork(db: Database, pipelineVersion: string, options: WaitOptions): Promise<WakeReason> {
  if (options.signal?.aborted) return 'aborted';
  let waiters: Set<Waiter> | null = null;
  try {
    waiters = await hubFor(db);
  } catch {
    waiters = null;
  }
  return new Promise<WakeReason>((resolve) => {
    const waiter: Waiter = {
      pipelineVersion,
      wake: (reason) => {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        waiters?.delete(waiter);
        resolve(reason);
      },
    };
    const onAbort = () => waiter.wake('aborted');
    const timer = setTimeout(() => waiter.wake('timeout'), options.timeoutMs);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    waiters?.add(waiter);
    if (options.signal?.aborted) onAbort(); // aborted while LISTEN was being set up
  });
}
