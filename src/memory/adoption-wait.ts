// Around a voter-set change, some voters are alive but advertise another configuration than the
// writer's: the joiner just admitted and members the commit notice has not reached yet (behind),
// or members that accepted the next proposal or adopted a commit still on its way to the writer
// (ahead; the simulator test caught this one). They are not counted as reachable (their acks would not count on our configuration), so for a moment a
// write could find "no reachable majority" of the voters or of an agent's replica set that a
// round trip later it has: the move itself caused a QuorumError (issue 21: `move-writes` saw
// them on a graceful leave, and on a join with another replica suspect). Instead, a write that
// would be admitted counting those voters waits for them, bounded, re-checking; a write refused
// for any other reason (a real partition, a dead majority) still fails at once.
import { QuorumError } from '../errors.js';
import type { Scheduler } from '../runtime/types.js';

/** At most this long a write waits for voters adopting our configuration (a commit notice and a metadata announcement). */
export const ADOPTION_WAIT_MS = 1_500;
/** How often the waiting write checks again. */
export const ADOPTION_POLL_MS = 25;

/**
 * Runs `check`, which throws QuorumError when the write may not start now. Writable: undefined
 * (no wait, no microtask: the caller's fast path is unchanged). Refused while `wouldPass()` (the
 * same check counting voters still adopting our configuration): a promise that resolves once
 * `check` passes, and rejects with the last refusal once `wouldPass` is false or `maxMs` passed.
 * Any other refusal is thrown at once.
 */
export function admitOrWait(check: () => void, wouldPass: () => boolean, scheduler: Scheduler, now: () => number, maxMs = ADOPTION_WAIT_MS): Promise<void> | undefined {
  try {
    check();
    return undefined;
  } catch (err) {
    if (!(err instanceof QuorumError) || !wouldPass()) throw err;
  }
  const until = now() + maxMs;
  return new Promise<void>((resolve, reject) => {
    const again = (): void => {
      try {
        check();
        return resolve();
      } catch (err) {
        if (!(err instanceof QuorumError) || now() >= until || !wouldPass()) return reject(err as Error);
      }
      scheduler.schedule(ADOPTION_POLL_MS, again);
    };
    scheduler.schedule(ADOPTION_POLL_MS, again);
  });
}
