// One Paxos round of the voter-set protocol, the proposer's side (split out of
// reconfiguration.ts, which decides when to run one and carries the calls): prepare to the
// voters on our epoch, adopt the highest accepted value a quorum reports, accept, commit.
// Answers count only from the incarnation their voter entry lists (voter-identity.ts).
import { METHODS } from '../rpc/methods.js';
import type { QuorumGate } from './quorum-gate.js';
import { parseAnswer, type WireAnswer } from './reconfig-messages.js';
import { compareBallots, type Ballot, type VoterConfig } from './voter-config.js';

/** What a round needs of the protocol core. */
export interface PaxosHost {
  self: string;
  gate: QuorumGate;
  /** The highest round seen in answers, so the next ballot outbids it. */
  seenRound(): number;
  noteRound(round: number): void;
  ask(names: string[], method: string, body: unknown, now: number, then: (replies: Map<string, Uint8Array>, now: number) => void, fail: (now: number) => void): void;
  /** `chosen` was accepted by `accepted`, a quorum: adopt it and tell every live member. */
  commit(chosen: VoterConfig, accepted: Set<string>, epoch: number): void;
}

/**
 * One Paxos round for the next epoch, proposing `value` unless a value may already be chosen;
 * finish(decided). Learners a proposal admits are not asked: each answer is a persisted record
 * and two metadata updates gossiped to everyone (docs/performance.md, forming clusters).
 */
export function runPaxos(h: PaxosHost, value: VoterConfig, names: string[], now: number, finish: (decided: boolean, at: number) => void): void {
  const gate = h.gate;
  const epoch = gate.voterConfig().epoch + 1;
  if (value.epoch !== epoch) return finish(false, now);
  const ballot: Ballot = { round: gate.nextRound(h.seenRound()), name: h.self };
  const own = gate.prepare(epoch, ballot);
  if (!own.ok) return finish(false, now);
  const fail = (at: number): void => finish(false, at);
  h.ask(names, METHODS.quorumPrepare, { epoch, ballot }, now, (replies, at) => {
    const promises = answers(h, replies, METHODS.quorumPrepare);
    if (gate.voterConfig().epoch + 1 !== epoch) return finish(true, at); // decided meanwhile
    // An answer counts only from the incarnation its entry lists (voter-identity.ts).
    const promised = new Set([h.self, ...[...promises].filter(([n, a]) => a.ok && gate.votesAs(n, a.nodeId)).map(([n]) => n)]);
    if (!gate.isQuorum(promised)) return finish(false, at);
    // Paxos: if any member of the quorum accepted a value, propose the one with the highest ballot.
    let best = own.accepted;
    for (const n of promised) {
      const a = promises.get(n)?.accepted;
      if (a && compareBallots(a.ballot, best?.ballot) > 0) best = a;
    }
    const chosen = best?.config ?? value;
    if (!gate.accept(ballot, chosen).ok) return finish(false, at);
    const others = [...promised].filter((n) => n !== h.self);
    h.ask(others, METHODS.quorumAccept, { epoch, ballot, config: chosen }, at, (replies2, at2) => {
      if (gate.voterConfig().epoch + 1 !== epoch) return finish(true, at2);
      const accepts = answers(h, replies2, METHODS.quorumAccept);
      const accepted = new Set([h.self, ...[...accepts].filter(([n, a]) => a.ok && gate.votesAs(n, a.nodeId)).map(([n]) => n)]);
      if (!gate.isQuorum(accepted)) return finish(false, at2);
      h.commit(chosen, accepted, epoch);
      finish(true, at2);
    }, fail);
  }, fail);
}

/** The answers that parse (a malformed one counts as no answer), noting the highest round seen. */
function answers(h: PaxosHost, replies: Map<string, Uint8Array>, method: string): Map<string, WireAnswer> {
  const out = new Map<string, WireAnswer>();
  for (const [name, bytes] of replies) {
    try {
      const a = parseAnswer(bytes, `${method} answer from ${name}`);
      out.set(name, a);
      if (a.accepted) h.noteRound(a.accepted.ballot.round);
    } catch {
      // refused or malformed: not part of the quorum
    }
  }
  return out;
}
