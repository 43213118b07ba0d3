// Whether a holder's report (renewal, result, failure) is accepted, judged from the task's merged
// state on this replica. Refusals are answers, not exceptions: after a failover they are normal.

import { sameFence, type Fence, type TaskState } from './task-state.js';

/**
 * stale-token: a newer assignment fenced this one off. not-holder: same token, but the merge
 * made another holder current. unknown-token: newer than anything this replica has seen (sync
 * first). finished / duplicate: the task already has an outcome (this one's, for duplicate).
 */
export type Refusal = 'unknown-task' | 'finished' | 'duplicate' | 'stale-token' | 'not-holder' | 'unknown-token';

export type Verdict = { accepted: true } | { accepted: false; reason: Refusal; detail: string };

export const ACCEPTED: Verdict = { accepted: true };

export function refuse(reason: Refusal, detail: string): Verdict {
  return { accepted: false, reason, detail };
}

/** Accepted only for the current (token, holder) of a task that has no outcome yet. */
export function judgeReport(state: TaskState | undefined, id: string, fence: Fence): Verdict {
  if (!state) return refuse('unknown-task', `no task ${id} in the task table`);
  const w = state.winner;
  if (w) {
    if (w.kind !== 'giveup' && sameFence(w, fence)) return refuse('duplicate', `task ${id} already has the outcome of token ${fence.token}`);
    return refuse('finished', `task ${id} is already ${state.status} (token ${w.token} on ${w.holder || 'the scheduler'})`);
  }
  const cur = state.current;
  if (sameFence(cur, fence)) return ACCEPTED;
  const held = cur ? `token ${cur.token} is held by ${cur.holder}` : 'it has no assignment here';
  const detail = `task ${id}: token ${fence.token} for ${fence.holder} is not current (${held})`;
  if (!cur || fence.token > cur.token) return refuse('unknown-token', detail);
  return refuse(fence.token < cur.token ? 'stale-token' : 'not-holder', detail);
}
