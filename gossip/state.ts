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

// The decisions are shared constants: the rules run for every fact of every packet, and a fresh
// object per call was garbage on the hottest path. Callers must not modify them.
const IGNORE_STALE = Object.freeze({ action: 'ignore', reason: 'stale' } as const);
const IGNORE_ECHO = Object.freeze({ action: 'ignore', reason: 'echo' } as const);
const IGNORE_ADDRESS_CONFLICT = Object.freeze({ action: 'ignore', reason: 'address-conflict' } as const);
const IGNORE_UNKNOWN = Object.freeze({ action: 'ignore', reason: 'unknown' } as const);
const IGNORE_LEAVING = Object.freeze({ action: 'ignore', reason: 'leaving' } as const);
const IGNORE_NOT_ALIVE = Object.freeze({ action: 'ignore', reason: 'not-alive' } as const);
const IGNORE_ALREADY_DOWN = Object.freeze({ action: 'ignore', reason: 'already-down' } as const);
const ADD = Object.freeze({ action: 'add' } as const);
const REFUTE = Object.freeze({ action: 'refute' } as const);
const CONFIRM = Object.freeze({ action: 'confirm' } as const);
const SUSPECT = Object.freeze({ action: 'suspect' } as const);
const ACCEPT_ALIVE = Object.freeze({ action: 'accept', event: 'alive' } as const);
const ACCEPT_JOIN = Object.freeze({ action: 'accept', event: 'join' } as const);
const MARK_LEFT = Object.freeze({ action: 'mark', state: 'left' } as const);
const ACCEPT_UPDATE = Object.freeze({ action: 'accept', event: 'update' } as const);
const ACCEPT_QUIET = Object.freeze({ action: 'accept', event: null } as const);
const MARK_DEAD = Object.freeze({ action: 'mark', state: 'dead' } as const);

/** An alive claim. `existing` is our own record when `isSelf`. */
export function decideAlive(existing: MemberInfo | undefined, claim: AliveClaim, isSelf: boolean): AliveDecision {
  if (isSelf && existing) {
    if (claim.incarnation < existing.incarnation) return IGNORE_STALE;
    const echo = claim.incarnation === existing.incarnation && claim.address === existing.address && sameBytes(claim.meta, existing.meta);
    if (echo) return IGNORE_ECHO;
    // Someone holds a newer or different picture of us: a previous life of this node, or a
    // name clash. Either way we assert the current truth with a higher incarnation.
    return REFUTE;
  }
  if (!existing) return ADD;
  // A second process using a live member's name must not hijack its traffic.
  if (claim.address !== existing.address && isLive(existing.state)) return IGNORE_ADDRESS_CONFLICT;
  // Same incarnation never revives a dead member or un-suspects one: only a refutation can.
  if (claim.incarnation <= existing.incarnation) return IGNORE_STALE;
  if (existing.state === 'suspect') return ACCEPT_ALIVE;
  if (existing.state === 'dead' || existing.state === 'left') return ACCEPT_JOIN;
  const changed = claim.address !== existing.address || !sameBytes(claim.meta, existing.meta);
  return changed ? ACCEPT_UPDATE : ACCEPT_QUIET;
}

/** A suspect claim. `leaving` is true once we have left gracefully (we no longer refute). */
export function decideSuspect(existing: MemberInfo | undefined, claim: AccusationClaim, isSelf: boolean, leaving: boolean): SuspectDecision {
  if (!existing) return IGNORE_UNKNOWN;
  // Already refuted (or the accuser saw an older life): ignore.
  if (claim.incarnation < existing.incarnation) return IGNORE_STALE;
  if (isSelf) return leaving ? IGNORE_LEAVING : REFUTE;
  if (existing.state === 'suspect') return CONFIRM;
  if (existing.state !== 'alive') return IGNORE_NOT_ALIVE;
  return SUSPECT;
}

/** A dead claim; `from === name` is the member's own graceful leave. */
export function decideDead(existing: MemberInfo | undefined, claim: AccusationClaim, isSelf: boolean, leaving: boolean): DeadDecision {
  if (!existing) return IGNORE_UNKNOWN;
  if (claim.incarnation < existing.incarnation) return IGNORE_STALE;
  if (isSelf) return leaving ? IGNORE_LEAVING : REFUTE;
  const left = claim.from === claim.name;
  if (existing.state === 'left') return IGNORE_ALREADY_DOWN;
  // A member's own word that it left beats our guess that it died: show it as left.
  if (existing.state === 'dead') return left ? MARK_LEFT : IGNORE_ALREADY_DOWN;
  return left ? MARK_LEFT : MARK_DEAD;
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

/** A copy of a record; `sharedMeta`: the (interned, never written) meta array itself rather than a copy of it. */
export function copyMember(m: MemberInfo, sharedMeta = false): MemberInfo {
  const copy: MemberInfo = { name: m.name, address: m.address, meta: sharedMeta ? m.meta : m.meta.slice(), incarnation: m.incarnation, state: m.state, stateChangedAt: m.stateChangedAt };
  if (m.rttMs !== undefined) copy.rttMs = m.rttMs;
  return copy;
}
