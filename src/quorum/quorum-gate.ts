// Applies the quorum rules to the live member table: whether this node may write now, which
// voters must acknowledge, and downing (the writable side removes members that stayed FAILED for
// `stable-after`). A removed member that comes back alive is a voter again once it is ACTIVE.
import { QuorumError } from '../errors.js';
import type { LifecycleState } from '../node/lifecycle.js';
import type { Role } from '../node/meta.js';
import type { Logger } from '../runtime/types.js';
import { majority, voters, writableVerdict, type MemberForQuorum, type WritableVerdict } from './rules.js';

export interface QuorumMember {
  name: string;
  role: Role;
  state: LifecycleState;
  /** SWIM reachability: only alive members count as reachable (suspects do not). */
  reachable: boolean;
  /** When SWIM last changed this member's state (node clock, ms). */
  stateChangedAt: number;
}

export class QuorumGate {
  private readonly removed = new Set<string>();
  /**
   * The last verdict and what it was computed from. `members()` returns the same array until the
   * member table changes (ClusterNode caches it), so a check on an unchanged table costs O(1)
   * instead of two sorts of the voter set: at 1,000 nodes that is most of the idle cost.
   */
  private memo: { members: QuorumMember[]; removedVersion: number; verdict: WritableVerdict } | undefined;
  private removedVersion = 0;

  constructor(
    private readonly self: string,
    private readonly members: () => QuorumMember[],
    private readonly stableAfterMs: number,
    private readonly log: Logger,
  ) {}

  private table(): MemberForQuorum[] {
    return this.members().map((m) => ({ name: m.name, role: m.role, state: m.state, removed: this.removed.has(m.name) }));
  }

  verdict(): WritableVerdict {
    const members = this.members();
    if (this.memo && this.memo.members === members && this.memo.removedVersion === this.removedVersion) return this.memo.verdict;
    const reach = new Set(members.filter((m) => m.reachable || m.name === this.self).map((m) => m.name));
    const verdict = writableVerdict(this.table(), reach);
    this.memo = { members, removedVersion: this.removedVersion, verdict };
    return verdict;
  }

  /** Throws QuorumError (nothing applied) when this side may not write. */
  assertWritable(): WritableVerdict {
    const v = this.verdict();
    if (!v.writable) {
      throw new QuorumError(`this node is read-only: it ${v.reason}. Writes resume when the partition heals or failed members are removed; reads still work.`);
    }
    return v;
  }

  /** Names of current voters, and how many acknowledgements besides our own a write needs. */
  ackPlan(): { voters: Set<string>; needed: number } {
    const vs = voters(this.table());
    const names = new Set(vs.map((v) => v.name));
    const selfVotes = names.has(this.self);
    return { voters: names, needed: Math.max(0, majority(vs.length) - (selfVotes ? 1 : 0)) };
  }

  /**
   * Downing: on the writable side only, members FAILED for at least stable-after leave the voter
   * set. A member seen alive again is reinstated (it rejoined with a new incarnation).
   */
  tick(now: number): void {
    for (const m of this.members()) {
      if (this.removed.has(m.name) && m.state !== 'FAILED' && m.state !== 'LEFT') {
        this.removed.delete(m.name);
        this.removedVersion++;
        this.log.info({ member: m.name }, 'member is back: voter again once ACTIVE');
      }
    }
    if (!this.verdict().writable) return;
    for (const m of this.members()) {
      if (m.state === 'FAILED' && !this.removed.has(m.name) && now - m.stateChangedAt >= this.stableAfterMs) {
        this.removed.add(m.name);
        this.removedVersion++;
        this.log.info({ member: m.name, failedForMs: Math.round(now - m.stateChangedAt) }, 'removed a failed member from the voter set');
      }
    }
  }

  removedMembers(): string[] {
    return [...this.removed].sort();
  }
}
