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
  /**
   * Members seen as voters, with their roles; they keep voting while they restart (see table()).
   * Persisted with the removed set, so a restarted node whose member table is still partial
   * counts every voter it knew as an unreachable voter rather than believing the cluster small.
   */
  private readonly knownVoters = new Map<string, Role>();
  /** Set when a member told us we were removed from the voter set (see markSelfRemoved). */
  private selfRemovedBy: string | undefined;

  constructor(
    private readonly self: string,
    private readonly members: () => QuorumMember[],
    private readonly stableAfterMs: number,
    private readonly log: Logger,
    private readonly persisted?: { load(): string | undefined; save(json: string): void },
  ) {
    try {
      const saved = JSON.parse(persisted?.load() ?? 'null') as { known?: Record<string, Role>; removed?: string[] } | null;
      for (const [name, role] of Object.entries(saved?.known ?? {})) if (name !== self) this.knownVoters.set(name, role);
      for (const name of saved?.removed ?? []) this.removed.add(name);
    } catch {
      // An unreadable record only makes this node forget who voted: it relearns from the cluster.
    }}

  /**
   * A member that has voted stays a voter while it restarts and catches up (JOINING, SYNCING):
   * only a member that never was a voter waits until it is ACTIVE. Otherwise the side that saw a
   * voter restart would count one voter fewer than the side that did not, and the two could each
   * believe they hold a majority (or the half with the tiebreaker) at once.
   */
  private table(): MemberForQuorum[] {
    let changed = false;
    const members = this.members();
    const seen = new Set<string>();
    const out: MemberForQuorum[] = members.map((m) => {
      seen.add(m.name);
      if (m.name !== this.self && (m.state === 'ACTIVE' || m.state === 'DEGRADED' || m.state === 'FAILED') && this.knownVoters.get(m.name) !== m.role) {
        this.knownVoters.set(m.name, m.role);
        changed = true;
      } else if (m.state === 'LEFT' && this.knownVoters.delete(m.name)) {
        changed = true;
      }
      const rejoining = (m.state === 'JOINING' || m.state === 'SYNCING' || m.state === 'DISCOVERING') && this.knownVoters.has(m.name) && m.name !== this.self;
      return { name: m.name, role: m.role, state: rejoining ? 'DEGRADED' : m.state, removed: this.removed.has(m.name) };
    });
    // Voters we knew but do not see (yet) in the member table count as unreachable voters.
    for (const [name, role] of this.knownVoters) if (!seen.has(name)) out.push({ name, role, state: 'FAILED', removed: this.removed.has(name) });
    if (changed) this.persist();
    return out;
  }

  private persist(): void {
    this.removedVersion++;
    this.persisted?.save(JSON.stringify({ known: Object.fromEntries(this.knownVoters), removed: [...this.removed].sort() }));
  }

  verdict(): WritableVerdict {
    const members = this.members();
    if (this.memo && this.memo.members === members && this.memo.removedVersion === this.removedVersion) return this.memo.verdict;
    const reach = new Set(members.filter((m) => m.reachable || m.name === this.self).map((m) => m.name));
    let verdict = writableVerdict(this.table(), reach);
    if (this.selfRemovedBy !== undefined) {
      verdict = { ...verdict, writable: false, reason: `was removed from the voter set (${this.selfRemovedBy} holds it removed) and waits for a writable side to reinstate it` };
    }
    // A node that is still joining or catching up (or leaving) has a partial view of the voters
    // (it may not know members the cluster holds as failed), so it never accepts writes itself.
    const own = members.find((m) => m.name === this.self)?.state;
    if (verdict.writable && own !== 'ACTIVE' && own !== 'DEGRADED') {
      verdict = { ...verdict, writable: false, reason: `is ${own ?? 'not a member yet'}; it accepts writes once it is ACTIVE` };
    }
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

  /**
   * Names of current voters, how many acknowledgements besides our own a write needs, and when a
   * set of acknowledgements completes it. A write needs the same kind of quorum that makes a side
   * writable: a majority of voters, or, while this side is writable only as exactly half holding
   * the tiebreaker, that half. (Two such quorums always intersect, so both cannot happen at once;
   * without this a 2+2 split left the tiebreaker's side writable but unable to acknowledge
   * anything until downing shrank the voter set.)
   */
  ackPlan(): { voters: Set<string>; needed: number; complete: (acks: ReadonlySet<string>) => boolean } {
    const vs = voters(this.table());
    const names = new Set(vs.map((v) => v.name));
    const selfVotes = names.has(this.self);
    const v = this.verdict();
    const byTiebreaker = v.writable && 2 * v.reachable === v.total && v.tiebreaker !== undefined;
    const quorumSize = byTiebreaker ? v.total / 2 : majority(vs.length);
    const complete = (acks: ReadonlySet<string>): boolean => {
      const n = vs.filter((x) => acks.has(x.name) || (x.name === this.self && selfVotes)).length;
      return 2 * n > vs.length || (byTiebreaker && 2 * n === vs.length && (acks.has(v.tiebreaker!) || v.tiebreaker === this.self));
    };
    return { voters: names, needed: Math.max(0, quorumSize - (selfVotes ? 1 : 0)), complete };
  }

  /** Reinstates removed members seen alive again (they rejoined with a new incarnation); returns their names. */
  tick(_now: number): string[] {
    const back: string[] = [];
    // Only a side that is writable under the current voter set may change it: a cut-off node
    // that reinstated removed members on sight would count them again and could call itself
    // writable together with them while the side that removed them is writable too.
    if (!this.verdict().writable) return back;
    for (const m of this.members()) {
      if (this.removed.has(m.name) && m.state !== 'FAILED' && m.state !== 'LEFT') {
        back.push(m.name);
        this.removed.delete(m.name);
        this.persist();
        this.log.info({ member: m.name }, 'member is back: voter again once ACTIVE');
      }
    }
    return back;
  }

  /**
   * Downing, step 1: on the writable side only, once the view has been settled for stable-after
   * (nobody suspect, no member changed SWIM state), every FAILED member is a candidate for
   * removal, to be confirmed by asking the members we take for reachable (`confirm`). A side's
   * view can be stale: a cut-off side notices unreachable members one at a time, slowly, so it
   * may still take some of them for alive and think itself writable. Downing on such a view (one
   * member at a time) let a 2 of 5 pair shrink the voter set until it was a majority of what was
   * left, in a real 2+2+1 split. Removal therefore waits for confirmDowning().
   */
  downingPlan(now: number): { candidates: string[]; confirm: string[] } | undefined {
    if (!this.verdict().writable) return undefined;
    const others = this.members().filter((m) => m.name !== this.self);
    if (others.some((m) => !m.reachable && m.state !== 'FAILED' && m.state !== 'LEFT')) return undefined;
    if (others.some((m) => now - m.stateChangedAt < this.stableAfterMs)) return undefined;
    const listed = new Set(others.map((m) => m.name));
    // Known voters missing from the member table (reaped, or not relearnt after a restart) are
    // failed for good as far as this view goes: candidates as well.
    const unlisted = [...this.knownVoters.keys()].filter((n) => !listed.has(n) && n !== this.self && !this.removed.has(n));
    const candidates = [...others.filter((m) => m.state === 'FAILED' && !this.removed.has(m.name)).map((m) => m.name), ...unlisted];
    if (candidates.length === 0) return undefined;
    return { candidates, confirm: others.filter((m) => m.reachable).map((m) => m.name) };
  }

  /**
   * Downing, step 2: `answered` are the members that just answered us. Only if they (with us) are
   * still a writable side of the current voter set do the candidates leave it, all at once.
   */
  confirmDowning(candidates: readonly string[], answered: ReadonlySet<string>): boolean {
    const reach = new Set([...answered, this.self]);
    const v = writableVerdict(this.table(), reach);
    if (!v.writable) {
      this.log.warn({ candidates, answered: [...answered] }, `not removing failed members: only ${v.reachable} of ${v.total} voters answered`);
      return false;
    }
    const now = new Map(this.members().map((m) => [m.name, m]));
    for (const name of candidates) {
      const m = now.get(name);
      if (this.removed.has(name) || (m ? m.state !== 'FAILED' : !this.knownVoters.has(name))) continue;
      this.removed.add(name);
      this.persist();
      this.log.info({ member: name, answered: v.reachable, voters: v.total }, 'removed a failed member from the voter set');
    }
    return true;
  }

  /**
   * A member that holds us as removed told us so (we cannot see it ourselves): until a writable
   * side reinstates us we are no voter and accept no writes, even if we think we reach a majority
   * of the voter set we last knew.
   */
  markSelfRemoved(by: string): void {
    if (this.selfRemovedBy !== undefined) return;
    this.selfRemovedBy = by;
    this.removedVersion++;
    this.log.warn({ by }, 'this node was removed from the voter set while away: read-only until a writable side reinstates it');
  }

  clearSelfRemoved(): void {
    if (this.selfRemovedBy === undefined) return;
    this.selfRemovedBy = undefined;
    this.removedVersion++;
  }

  /** The voters this node counts as reachable right now (itself included when it votes). */
  reachableVoters(): Set<string> {
    const reach = new Set(this.members().filter((m) => m.reachable || m.name === this.self).map((m) => m.name));
    return new Set(voters(this.table()).filter((v) => reach.has(v.name)).map((v) => v.name));
  }

  removedMembers(): string[] {
    return [...this.removed].sort();
  }
}
