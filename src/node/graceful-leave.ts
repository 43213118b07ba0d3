// The data steps of a graceful leave (SIGTERM): leave the voter set through a configuration change,
// then hand every agent document off to its new replica set (each dropped only once a majority of
// that set stored it). Until it exits the node is still a replica: it stores and acknowledges writes,
// and what it acknowledged is either handed off by the drain or kept in its data directory. When its
// removal is not chosen in time (cut off from a majority of the voters, or another change still being
// chosen), the node exits as a voter that is down (the writable side removes it once it sees it
// LEFT), drops nothing, and says so.
import type { Logger } from '../runtime/types.js';

export type LeaveOutcome =
  /** Off the voter set and every document handed off: the data directory holds nothing a peer lacks. */
  | 'drained'
  /** The removal was not chosen in time: still a voter, nothing handed off, everything kept on disk. */
  | 'still-voter'
  /** Off the voter set, but some documents had no majority of their new set to take them in time. */
  | 'undrained'
  /** The node was not running (still joining, or already stopping): nothing to hand off. */
  | 'not-running';

export interface LeaveSteps {
  self: string;
  log: Logger;
  running(): boolean;
  isVoter(): boolean;
  /** Proposes this node's removal; resolves whether it was chosen within `maxMs`. */
  leaveVoters(maxMs: number): Promise<boolean>;
  replicas: {
    /** Hands documents off; resolves whether none is left within `maxMs`. */
    drain(maxMs: number): Promise<boolean>;
    /** documentsMoving: documents still held here that belong elsewhere. */
    status(): { documentsMoving: number };
  };
}

/** Leaves the voter set, then drains, each bounded by `maxMs`; logs a warning when either fell short. */
export async function leaveAndDrain(s: LeaveSteps, maxMs: number): Promise<LeaveOutcome> {
  if (!s.running()) return 'not-running';
  if (s.isVoter() && !(await s.leaveVoters(maxMs)) && s.isVoter()) {
    s.log.warn(
      { maxMs },
      `${s.self} could not leave the voter set within ${maxMs} ms (no majority of the voters answered, or another change was still being chosen): it exits as a voter that is down and hands nothing off; its data directory keeps every document it holds, and the writable side removes it once it sees it LEFT`,
    );
    return 'still-voter';
  }
  if (!s.running()) return 'not-running';
  if (await s.replicas.drain(maxMs)) return 'drained';
  const moving = s.replicas.status().documentsMoving;
  s.log.warn(
    { documentsMoving: moving },
    `${s.self} left the voter set but could not hand ${moving} document(s) to a majority of their new replica sets within ${maxMs} ms: it keeps them in its data directory (nothing a majority lacks is dropped); restart it to finish the hand-off`,
  );
  return 'undrained';
}
