// The member table and SWIM's merge rules. Each rule is a pure decision: given what we know about
// a member and an incoming claim, say what to do. swim.ts carries the decision out (events,
// broadcasts, timers), so the rules can be read and tested on their own.
//
// Incarnation numbers order claims about one member. Only the member itself raises its own
// incarnation (to refute, or to publish new meta), so a higher number is always newer news from
// the source of truth, while suspect/dead claims are opinions about a given incarnation.

import type { MemberInfo, MemberState } from './types.js';

export interface AliveClaim { incarnation: number; name: string; address: string; meta: Uint8Array }
export interface AccusationClaim { incarnation: number; name: string; from: string }

export type AliveDecision =
  | { action: 'ignore'; reason: 'stale' | 'address-conflict' | 'echo' }
  | { action: 'add' }
  /** event null: only the incarnation moved (nothing an application needs to hear about). */
  | { action: 'accept'; event: 'join' | 'alive' | 'update' | null }
  | { action: 'refute' };

export type SuspectDecision =
  | { action: 'ignore'; reason: 'unknown' | 'stale' | 'not-alive' | 'leaving' }
  | { action: 'suspect' }
  | { action: 'confirm' }
  | { action: 'refute' };

export type DeadDecision =
  | { action: 'ignore'; reason: 'unknown' | 'stale' | 'already-down' | 'leaving' }
  | { action: 'mark'; state: 'dead' | 'left' }
  | { action: 'refute' };

export function isLive(state: MemberState): boolean {
  return state === 'alive' || state === 'suspect';
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** An alive claim. `existing` is our own record when `isSelf`. */
export function decideAlive(existing: MemberInfo | undefined, claim: AliveClaim, isSelf: boolean): AliveDecision {
  if (isSelf && existing) {
    if (claim.incarnation < existing.incarnation) return { action: 'ignore', reason: 'stale' };
    const echo = claim.incarnation === existing.incarnation && claim.address === existing.address && sameBytes(claim.meta, existing.meta);
    if (echo) return { action: 'ignore', reason: 'echo' };
    // Someone holds a newer or different picture of us: a previous life of this node, or a
    // name clash. Either way we assert the current truth with a higher incarnation.
    return { action: 'refute' };
  }
  if (!existing) return { action: 'add' };
  // A second process using a live member's name must not hijack its traffic.
  if (claim.address !== existing.address && isLive(existing.state)) return { action: 'ignore', reason: 'address-conflict' };
  // Same incarnation never revives a dead member or un-suspects one: only a refutation can.
  if (claim.incarnation <= existing.incarnation) return { action: 'ignore', reason: 'stale' };
  if (existing.state === 'suspect') return { action: 'accept', event: 'alive' };
  if (existing.state === 'dead' || existing.state === 'left') return { action: 'accept', event: 'join' };
  const changed = claim.address !== existing.address || !sameBytes(claim.meta, existing.meta);
  return { action: 'accept', event: changed ? 'update' : null };
}

/** A suspect claim. `leaving` is true once we have left gracefully (we no longer refute). */
export function decideSuspect(existing: MemberInfo | undefined, claim: AccusationClaim, isSelf: boolean, leaving: boolean): SuspectDecision {
  if (!existing) return { action: 'ignore', reason: 'unknown' };
  // Already refuted (or the accuser saw an older life): ignore.
  if (claim.incarnation < existing.incarnation) return { action: 'ignore', reason: 'stale' };
  if (isSelf) return leaving ? { action: 'ignore', reason: 'leaving' } : { action: 'refute' };
  if (existing.state === 'suspect') return { action: 'confirm' };
  if (existing.state !== 'alive') return { action: 'ignore', reason: 'not-alive' };
  return { action: 'suspect' };
}

/** A dead claim; `from === name` is the member's own graceful leave. */
export function decideDead(existing: MemberInfo | undefined, claim: AccusationClaim, isSelf: boolean, leaving: boolean): DeadDecision {
  if (!existing) return { action: 'ignore', reason: 'unknown' };
  if (claim.incarnation < existing.incarnation) return { action: 'ignore', reason: 'stale' };
  if (isSelf) return leaving ? { action: 'ignore', reason: 'leaving' } : { action: 'refute' };
  const left = claim.from === claim.name;
  if (existing.state === 'left') return { action: 'ignore', reason: 'already-down' };
  // A member's own word that it left beats our guess that it died: show it as left.
  if (existing.state === 'dead') return left ? { action: 'mark', state: 'left' } : { action: 'ignore', reason: 'already-down' };
  return { action: 'mark', state: left ? 'left' : 'dead' };
}

/**
 * Name -> member, including ourselves. Records are mutated in place (callers outside get copies);
 * state changes go through setState so the live count, which every outgoing packet needs for its
 * retransmit limit, stays O(1).
 */
export class MemberTable {
  private readonly byName = new Map<string, MemberInfo>();
  private live = 0;
  private changes = 0;

  /**
   * Grows on every change to the table or to a record's name, address, meta, incarnation or state
   * (not its RTT estimate): what depends on those can be cached until it moves.
   */
  get version(): number {
    return this.changes;
  }

  /** Records that a member's address, meta or incarnation was changed in place. */
  touch(): void {
    this.changes++;
  }

  get(name: string): MemberInfo | undefined {
    return this.byName.get(name);
  }

  set(member: MemberInfo): void {
    this.changes++;
    this.delete(member.name);
    this.byName.set(member.name, member);
    if (isLive(member.state)) this.live++;
  }

  delete(name: string): void {
    const old = this.byName.get(name);
    if (!old) return;
    this.changes++;
    this.byName.delete(name);
    if (isLive(old.state)) this.live--;
  }

  all(): IterableIterator<MemberInfo> {
    return this.byName.values();
  }

  size(): number {
    return this.byName.size;
  }

  /** Alive or suspect members, ourselves included: the population the formulas scale with. */
  liveCount(): number {
    return this.live;
  }

  setState(member: MemberInfo, state: MemberState, now: number): void {
    if (member.state === state) return;
    this.changes++;
    this.live += (isLive(state) ? 1 : 0) - (isLive(member.state) ? 1 : 0);
    member.stateChangedAt = now;
    member.state = state;
  }
}

export function copyMember(m: MemberInfo): MemberInfo {
  const copy: MemberInfo = { name: m.name, address: m.address, meta: m.meta.slice(), incarnation: m.incarnation, state: m.state, stateChangedAt: m.stateChangedAt };
  if (m.rttMs !== undefined) copy.rttMs = m.rttMs;
  return copy;
}
