// The lifecycle an operator sees (DESIGN.md "Membership"), separate from SWIM's own
// alive/suspect/dead, which is shown beside it. A member reports its own ACTIVE/SYNCING/DEGRADED/
// LEAVING in its metadata; FAILED and LEFT are what the cluster concluded about it.
import type { MemberState } from '../../gossip/swim.js';
import type { LifecycleState } from '../vocabulary.js';

export { LIFECYCLE_STATES, type LifecycleState } from '../vocabulary.js';

/** What to show for a remote member, combining its self-reported state with SWIM's verdict. */
export function memberLifecycle(swimState: MemberState, reported: LifecycleState): LifecycleState {
  if (swimState === 'dead') return 'FAILED';
  if (swimState === 'left') return 'LEFT';
  return reported;
}
