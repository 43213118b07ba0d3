// The public shapes of the membership layer. gossip/swim.ts re-exports them; they live here so
// the table, codecs and state machine can share them without import cycles.

export type MemberState = 'alive' | 'suspect' | 'dead' | 'left';

export interface MemberInfo {
  name: string;
  /** "host:port" of the member's gossip socket. */
  address: string;
  /** Opaque application metadata, at most 512 bytes. */
  meta: Uint8Array;
  incarnation: number;
  state: MemberState;
  /** When (on our clock) we last saw this member's state change. */
  stateChangedAt: number;
  /** EWMA of the probe round trips we measured to this member. */
  rttMs?: number;
}

export type MemberEventKind = 'join' | 'update' | 'suspect' | 'alive' | 'dead' | 'left' | 'reap';

/**
 * join: a new member, or a dead/left member that came back. update: an alive member changed its
 * address or meta. alive: a suspect member refuted. reap: a dead/left member was removed.
 * The record is the listener's own copy, except `member.meta`: that is the process-wide shared
 * copy of those bytes (gossip/intern.ts), so copy it before modifying it.
 */
export interface MemberEvent {
  kind: MemberEventKind;
  member: MemberInfo;
}

export type SwimEffect =
  | { type: 'send'; to: string; packet: Uint8Array }
  | { type: 'push-pull'; to: string; join: boolean }
  | { type: 'member'; event: MemberEvent };
