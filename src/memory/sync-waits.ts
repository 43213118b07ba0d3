// Waiting for a sync session to finish: subscribe to the engine's `synced` events, start the
// session, and resolve on the first matching event, or false when `timeoutMs` passed first.
import type { Scheduler } from '../runtime/types.js';
import type { SyncMode } from '../sync/types.js';

export type SyncedEvent = { peer: string; mode: SyncMode; docs: string[] };
export type SyncListener = (e: SyncedEvent) => void;

/** Resolves true on the first `synced` event `match` accepts after `start()`, false after `timeoutMs`. */
export function syncedWithin(
  scheduler: Scheduler,
  subscribe: (l: SyncListener) => () => void,
  match: (e: SyncedEvent) => boolean,
  timeoutMs: number,
  start: () => void,
): Promise<boolean> {
  return new Promise((resolve) => {
    const cancel = scheduler.schedule(timeoutMs, () => {
      off();
      resolve(false);
    });
    const off = subscribe((e) => {
      if (!match(e)) return;
      off();
      cancel();
      resolve(true);
    });
    start();
  });
}
