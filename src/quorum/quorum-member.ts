// The shapes the quorum gate reads and returns: a member row as the gate sees it, a Paxos
// acceptor's answer, and a planned change of the voter set. A leaf module so the gate's parts
// (quorum-gate.ts, change-planner.ts) and their readers share them without importing each other.
import type { LifecycleState, Role } from '../vocabulary.js';
import type { Ballot, VoterConfig } from './voter-config.js';

export interface QuorumMember {
  name: string;
  role: Role;
  state: LifecycleState;
  /** SWIM reachability: only alive members count as reachable (suspects do not). */
  reachable: boolean;
  /** SWIM suspects it (probes failed, not confirmed dead): it may still answer (a starved process). */
  suspect?: boolean;
  /** When SWIM last changed this member's state (node clock, ms). */
  stateChangedAt: number;
  /** The voter-config word the member advertises (voter-config.ts configWord); absent reads as 0. */
  configWord?: number;
  /** The node id of its data directory, from its metadata (voter-identity.ts); absent when unknown. */
  nodeId?: string;
}

/** A Paxos acceptor's answer: ok or not, our committed epoch, and (to a prepare) what we accepted. */
export interface AcceptorAnswer {
  ok: boolean;
  epoch: number;
  /** The answering node's node id: the proposer counts the answer only for the entry with that id. */
  nodeId?: string;
  accepted?: { ballot: Ballot; config: VoterConfig };
}

/** The next change this node should propose (see QuorumGate.changePlan). */
export interface ChangePlan {
  proposal: VoterConfig;
  admit: string[];
  down: string[];
  leave: string[];
  /** Admitted members that had been removed: they are told to pull a full snapshot. */
  back: string[];
  /** The other voters alive on our configuration: the Paxos acceptors to ask. */
  ask: string[];
}
