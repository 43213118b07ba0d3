// The Paxos acceptor state of the quorum gate for the next epoch (split out of quorum-gate.ts):
// the highest ballot promised and the value accepted, whose outcome this node does not know yet
// (it is pending while it holds one). The host persists both before any answer leaves, as Paxos
// requires; only the incarnation an entry lists answers as it (voter-identity.ts).
import type { Logger } from '../runtime/types.js';
import type { AcceptorAnswer } from './quorum-member.js';
import { compareBallots, type Ballot, type VoterConfig } from './voter-config.js';

export interface AcceptorHost {
  /** Whether this node votes under its entry now (listed under its node id, not fenced). */
  votes(): boolean;
  /** The committed epoch: promises and accepts are for the one after it. */
  epoch(): number;
  nodeId: string | undefined;
  /** Saves the record (synchronously: before the answer leaves). */
  persist(): void;
  /** A first value was accepted: the node is pending (joint writes) from now on. */
  pendingStarted(): void;
  log: Logger;
}

export class PaxosAcceptor {
  constructor(
    private readonly host: AcceptorHost,
    public promised: Ballot | undefined,
    public accepted: { ballot: Ballot; config: VoterConfig } | undefined,
  ) {}

  /** Paxos phase 1 for the next epoch: promise to accept nothing below `ballot`. */
  prepare(epoch: number, ballot: Ballot): AcceptorAnswer {
    const h = this.host;
    const ok = h.votes() && epoch === h.epoch() + 1 && compareBallots(ballot, this.promised) >= 0;
    if (ok && compareBallots(ballot, this.promised) > 0) {
      this.promised = ballot;
      h.persist();
    }
    return { ok, epoch: h.epoch(), ...this.ownId(), ...(ok && this.accepted ? { accepted: this.accepted } : {}) };
  }

  /** Paxos phase 2: accept `config` under `ballot` unless a higher ballot was promised; pending from then on. */
  accept(ballot: Ballot, config: VoterConfig): AcceptorAnswer {
    const h = this.host;
    const ok = h.votes() && config.epoch === h.epoch() + 1 && compareBallots(ballot, this.promised) >= 0;
    if (ok) {
      const fresh = !this.accepted;
      this.promised = ballot;
      this.accepted = { ballot, config };
      h.persist();
      if (fresh) {
        h.log.info({ epoch: config.epoch, id: config.id, voters: config.voters.length }, 'accepted a voter-set change; until it is decided writes need both the current and the proposed voters');
        h.pendingStarted();
      }
    }
    return { ok, epoch: h.epoch(), ...this.ownId() };
  }

  /** A round number above every ballot this node has seen for the next epoch. */
  nextRound(seen = 0): number {
    return Math.max(seen, this.promised?.round ?? 0, this.accepted?.ballot.round ?? 0) + 1;
  }

  /** A configuration was adopted: what was promised or accepted for its epoch is moot. */
  reset(): void {
    this.promised = undefined;
    this.accepted = undefined;
  }

  private ownId(): { nodeId?: string } {
    return this.host.nodeId ? { nodeId: this.host.nodeId } : {};
  }
}
