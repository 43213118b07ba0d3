// The voter-set protocol, sans-IO: single-decree Paxos over numbered configurations (the rules are
// in voter-config.ts, the acceptor state in quorum-gate.ts). The driver (src/node/voter-config-
// driver.ts) feeds it requests, replies, contacts and the time, and carries out the directives it
// returns: send a call or a notice, tell the node a configuration was chosen or adopted, wake the
// node's quorum check. The gate persists its acceptor state itself, synchronously, before an
// answer is returned here (Paxos requires it before the answer leaves).
//   prepare  Paxos phase 1 for the next epoch (answer: promised or not, and any value accepted);
//   accept   Paxos phase 2 (answer: accepted or not);
//   commit   a chosen configuration, sent to every live member once decided (and pushed to laggards);
//   config   asks a member for its committed configuration (a node that sees a member advertise
//            a higher epoch fetches it, so a missed commit notice heals).
// Each drive() (every quorum check) does at most one thing: fetch a newer configuration, re-run
// Paxos for a value this node accepted, or propose the change the gate plans. One round at a time.
//
// Members count towards a quorum by the config word gossiped in their metadata, which can be stale
// for a while (an update spent on a side that was cut off). Several things shorten that: a node
// whose configuration changes announces its metadata straight to every live member; a member that
// shows an older word gets our configuration pushed (at once when it sends us a packet); one that
// pushes us what we already hold makes us re-announce. And staleness cannot make a write
// acknowledged: acknowledgements carry the acker's real word (QuorumGate.countsAck).
import { fromJsonPayload, toJsonPayload } from '../rpc/json.js';
import { METHODS } from '../rpc/methods.js';
import type { Logger } from '../runtime/types.js';
import type { QuorumGate } from './quorum-gate.js';
import { commitHeader, commitNotice, parseCommit, parseRequest } from './reconfig-messages.js';
import { epochOfWord, parseVoterConfig, type VoterChange, type VoterConfig } from './voter-config.js';
import { DecodeError } from '../errors.js';
import { PacedPushes, type ConfigPeer } from './reconfig-pushes.js';
import { CallBatches, ROUND_TIMEOUT_MS, type CallDirective } from './reconfig-calls.js';
import { runPaxos, type PaxosHost } from './reconfig-paxos.js';

export type { ConfigPeer } from './reconfig-pushes.js';

export { ROUND_TIMEOUT_MS } from './reconfig-calls.js';
/** After a failed round of one node (it backs off by up to this much again, at random). */
const ROUND_PAUSE_MS = 1000;
/**
 * After a decided round: short, so a forming cluster whose members turn ACTIVE one after another
 * admits them in a few quick batches. The commit notice of the last round goes out before this,
 * so the next prepare finds its acceptors on the new epoch.
 */
const DECIDED_PAUSE_MS = 250;
/**
 * The plan's designated proposer is the lowest-named member able to propose; the others propose
 * only if a change stays unproposed this long (it may be cut off, or see the cluster otherwise).
 */
const STANDBY_MS = 3000;
/** How long a node that holds no configuration, and sees nobody who does, waits before founding (bootstrap()). */
const BOOTSTRAP_WAIT_MS = 2000;

/** What a round was started for: the periodic drive, a fetch while catching up, or a requested change. */
export type RoundPurpose = 'drive' | 'catch-up' | 'request';

export type ReconfigDirective =
  /** Call `method` at `to`; hand the reply (or undefined on any failure) back to reply(id). */
  | CallDirective
  /** A one-way notice (failures are ignored). */
  | { kind: 'notify'; to: string; method: string; payload: Uint8Array }
  /** This node chose `config`; `back` are removed members it admitted again (they pull a full snapshot). */
  | { kind: 'chosen'; config: VoterConfig; back: string[] }
  /** This node adopted a newer configuration. */
  | { kind: 'adopted' }
  /** What we know directly of members' configurations changed (quorum counts change). */
  | { kind: 'verified'; name: string }
  /** `name` holds stale metadata of ours: send it our current metadata. */
  | { kind: 'stale-view'; name: string }
  /** Run the quorum check again now (planned admissions are due). */
  | { kind: 'wake' }
  /** A round started with a token (catchUpFrom, propose) ended. */
  | { kind: 'done'; token: number; purpose: RoundPurpose; ok: boolean };

export interface ReconfigurationInit {
  self: string;
  gate: QuorumGate;
  log: Logger;
  /** The members as the node sees them (a read of its member table, not I/O). */
  peers: () => ConfigPeer[];
  random: () => number;
  /**
   * Whether this node may found a cluster by bootstrap (absent: yes). A node given seeds to join
   * founds only once one of them is a live member: a node restarted with a wiped data directory
   * whose seeds are cut off, reached only by a newcomer, must not found a second cluster beside
   * the one that still lists its name (`tri fuzz --seed 3 --runs 10 --nodes 5 --agents`, run 2).
   */
  mayFound?: () => boolean;
}

export class Reconfiguration {
  private readonly gate: QuorumGate;
  private readonly self: string;
  private readonly log: Logger;
  private out: ReconfigDirective[] = [];
  private inFlight = false;
  /** Since when nobody we see holds a configuration (see bootstrap()). */
  private bootstrapSince: number | undefined;
  /** When planned admissions are due (the wake directive). */
  private wakeAt: number | undefined;
  private nextRoundAt = -Infinity;
  /** Since when the gate has planned a change we have not proposed (see STANDBY_MS). */
  private planSince: number | undefined;
  /** The highest round seen in answers, so the next ballot outbids it. */
  private seenRound = 0;
  /** A newer committed epoch than gossip shows, that a member showed us directly (see countedWord). */
  private readonly verified = new Map<string, number>();
  private readonly pushes: PacedPushes;
  /** The calls of rounds in flight (reconfig-calls.ts). */
  private readonly calls: CallBatches;
  private readonly paxosHost: PaxosHost;

  constructor(private readonly init: ReconfigurationInit) {
    this.gate = init.gate;
    this.self = init.self;
    this.log = init.log;
    this.pushes = new PacedPushes(init.self, init.gate, init.peers);
    this.calls = new CallBatches(init.log);
    this.paxosHost = {
      self: init.self,
      gate: init.gate,
      seenRound: () => this.seenRound,
      noteRound: (r) => (this.seenRound = Math.max(this.seenRound, r)),
      ask: (names, method, body, at, then, fail) => this.ask(names, method, body, at, then, fail),
      commit: (chosen, accepted, epoch) => this.commit(chosen, accepted, epoch),
    };
  }

  /** Whether a round is running (one at a time). */
  busy(): boolean {
    return this.inFlight;
  }

  /** The earliest time tick() has something to do. */
  nextDeadline(): number {
    return Math.min(this.wakeAt ?? Infinity, this.calls.nextGuard());
  }

  /** Deadlines: planned admissions due, and phases whose replies never came. */
  tick(now: number): ReconfigDirective[] {
    if (this.wakeAt !== undefined && this.wakeAt <= now) {
      this.wakeAt = undefined;
      this.out.push({ kind: 'wake' });
    }
    this.calls.expire(now);
    return this.flush();
  }

  /** The reply to call `id` (undefined when it failed: unreachable, refused, timed out). */
  reply(id: number, bytes: Uint8Array | undefined, now: number): ReconfigDirective[] {
    this.calls.reply(id, bytes, now);
    return this.flush();
  }

  /** Answers a prepare, accept or config request (throws DecodeError on a malformed one). */
  answer(method: string, payload: Uint8Array, now: number): Uint8Array {
    const gate = this.gate;
    if (method === METHODS.quorumConfig) return toJsonPayload(gate.voterConfig());
    if (method === METHODS.quorumPrepare) {
      const r = parseRequest(payload, 'voter-set prepare');
      return toJsonPayload(gate.prepare(r.epoch, r.ballot));
    }
    if (method !== METHODS.quorumAccept) throw new DecodeError(`voter-set: no method ${method}`);
    const r = parseRequest(payload, 'voter-set accept');
    if (!r.config || r.config.epoch !== r.epoch) throw new DecodeError('voter-set accept: no value for the epoch');
    const wasPending = gate.pending() !== undefined;
    const answer = gate.accept(r.ballot, r.config);
    // Its proposer is deciding now: run Paxos for it ourselves only if it goes quiet.
    if (!wasPending && answer.ok) this.nextRoundAt = Math.max(this.nextRoundAt, now + 2 * ROUND_TIMEOUT_MS);
    return toJsonPayload(answer);
  }

  /** A commit notice (a chosen configuration, or a push of one). */
  receiveCommit(payload: Uint8Array, now: number): ReconfigDirective[] {
    const gate = this.gate;
    // A push of a configuration we hold (most of them, while a large cluster forms): answered
    // from its header, without parsing a list of every voter.
    const head = commitHeader(payload);
    if (head && head.epoch <= gate.voterConfig().epoch && gate.pending() === undefined) {
      this.staleViewSeen(head.by, now);
      return this.flush();
    }
    const { config, by, acceptors } = parseCommit(payload, 'voter-set commit');
    // Pushed a configuration we already hold: the sender sees our metadata as older than it is.
    if (config.epoch <= gate.voterConfig().epoch && gate.pending() === undefined) this.staleViewSeen(by, now);
    if (config.epoch > gate.voterConfig().epoch) {
      // Whoever chose it is on it, and its acceptors can only end on it: count them at once.
      if (by !== undefined) this.saw(by, config.epoch);
      for (const n of acceptors) this.saw(n, config.epoch);
      // So can the learners it admits (no configuration counted them before): counted at once.
      const held = gate.voterConfig();
      if (config.epoch === held.epoch + 1) for (const v of config.voters) if (!gate.isVoter(v.name) && !held.removed.includes(v.name)) this.saw(v.name, config.epoch);
    }
    this.adopt(config);
    return this.flush();
  }

  /**
   * A packet came from `name`, which gossip shows on word `gossiped`: if that is an older
   * configuration, it is in touch with us and may be counting members by their old words, so
   * push it ours now rather than at the next check.
   */
  contact(name: string, gossiped: number, now: number): ReconfigDirective[] {
    this.pushes.contact(name, gossiped, now, this.out);
    return this.flush();
  }

  /**
   * The config word a member counts with: its gossiped word, unless it showed us a newer
   * configuration directly (a commit notice, a Paxos answer, a config fetch) that gossip has not
   * caught up with yet; gossip as new as that evidence replaces it.
   */
  countedWord(name: string, gossiped: number): number {
    const v = this.verified.get(name);
    if (v === undefined) return gossiped;
    if (epochOfWord(gossiped) >= v) {
      this.verified.delete(name);
      return gossiped;
    }
    return 2 * v;
  }

  /** The periodic step (every quorum check): pushes to laggards, then at most one round. */
  drive(now: number): ReconfigDirective[] {
    const gate = this.gate;
    const epoch = gate.voterConfig().epoch;
    const { ahead, peers } = this.pushes.view(epoch);
    this.pushes.pushToLaggards(now, epoch, this.out);
    if (this.inFlight || now < this.nextRoundAt) return this.flush();
    if (ahead) {
      this.startRound(now, 'drive', 0, (finish) => this.fetchFrom(ahead, now, finish));
      return this.flush();
    }
    if (epoch === 0) {
      this.bootstrap(now, peers);
      return this.flush();
    }
    this.bootstrapSince = undefined;
    const pending = gate.pending();
    if (pending) {
      // Everyone on our epoch (committed, or pending on it) takes part.
      const ask = peers.filter((p) => epochOfWord(p.word) === epoch).map((p) => p.name);
      this.startRound(now, 'drive', 0, (finish) => runPaxos(this.paxosHost, pending, ask, now, finish));
      return this.flush();
    }
    const plan = gate.changePlan(now);
    if (!plan) {
      this.planSince = undefined;
      // Admissions waiting for learners to stop arriving: look again when the wait ends, not at
      // the next periodic check (up to 500 ms later).
      const due = gate.admissionDueAt();
      if (due !== undefined && due > now && this.wakeAt === undefined) this.wakeAt = due;
      return this.flush();
    }
    this.planSince ??= now;
    if (plan.ask.some((n) => n < this.self) && now - this.planSince < STANDBY_MS) return this.flush();
    this.log.info({ epoch: plan.proposal.epoch, admit: plan.admit.slice(0, 32), down: plan.down, leave: plan.leave, ask: plan.ask.length }, 'proposing a voter-set change');
    this.startRound(now, 'drive', 0, (finish) => runPaxos(this.paxosHost, plan.proposal, plan.ask, now, finish));
    return this.flush();
  }

  /**
   * Proposes `change` now (a voter leaving, an operator removing a member): one Paxos round,
   * reported by a `done` directive with the returned token (ok: the change was chosen). Undefined
   * when a round is running or this node may not propose it (see QuorumGate.requestedPlan).
   */
  propose(change: VoterChange, now: number): { token: number; directives: ReconfigDirective[] } | undefined {
    if (this.inFlight) return undefined;
    const plan = this.gate.requestedPlan(change);
    if (!plan) return undefined;
    this.log.info({ epoch: plan.proposal.epoch, admit: plan.admit, down: plan.down, leave: plan.leave }, 'proposing a requested voter-set change');
    const token = this.calls.id();
    const target = plan.proposal;
    this.startRound(now, 'request', token, (finish) =>
      runPaxos(this.paxosHost, target, plan.ask, now, (decided, at) => finish(decided && this.gate.voterConfig().id === target.id, at)),
    );
    return { token, directives: this.flush() };
  }

  /**
   * Fetches `name`'s configuration and adopts it if newer than ours: a node that restarts or joins
   * asks while it catches up, so it never turns ACTIVE counting voters on a configuration the
   * cluster has left. Reported by a `done` directive (ok: it answered).
   */
  catchUpFrom(name: string, now: number): { token: number; directives: ReconfigDirective[] } | undefined {
    const peer = this.init.peers().find((p) => p.name === name);
    if (!peer) return undefined;
    const token = this.calls.id();
    this.fetchFrom(peer, now, (ok) => this.out.push({ kind: 'done', token, purpose: 'catch-up', ok }));
    return { token, directives: this.flush() };
  }

  private flush(): ReconfigDirective[] {
    const out = this.out;
    this.out = [];
    return out;
  }

  /** `by` pushed us a configuration we hold: answer its stale view of us (paced, see PacedPushes). */
  private staleViewSeen(by: string | undefined, now: number): void {
    if (this.pushes.answerStaleView(by, now)) this.out.push({ kind: 'stale-view', name: by! });
  }

  /** Records that `name` is on (or can only end on) `epoch`, as it showed us directly. */
  private saw(name: string, epoch: number): void {
    if (name === this.self || this.verified.get(name) === epoch) return;
    this.verified.set(name, epoch);
    this.out.push({ kind: 'verified', name });
  }

  private adopt(config: VoterConfig): void {
    if (this.gate.adopt(config)) {
      this.planSince = undefined;
      this.out.push({ kind: 'adopted' });
    }
  }

  /**
   * Nobody we see holds a configuration (nodes started together that found each other, say by
   * --discover, so none founded a cluster): after BOOTSTRAP_WAIT_MS of that, the lowest-named live
   * member founds it, and the others are admitted as learners. Two nodes that do not see each
   * other may both found: they are two clusters until they meet (see voter-config.ts, Genesis).
   */
  private bootstrap(now: number, peers: ConfigPeer[]): void {
    // Any member known to hold a configuration, even one we hold for dead, means a cluster exists:
    // never found beside it (a joiner cut off before it fetched the configuration waits instead).
    if (this.gate.pending() || peers.some((p) => p.name < this.self) || this.init.peers().some((p) => p.word > 0) || this.init.mayFound?.() === false) {
      this.bootstrapSince = undefined;
      return;
    }
    this.bootstrapSince ??= now;
    if (now - this.bootstrapSince >= BOOTSTRAP_WAIT_MS) this.gate.found();
  }

  /**
   * Runs one round; `body` calls finish(decided, now) exactly once. A drive round then pauses
   * (a lost one at random, so duelling proposers stop outbidding each other); a round with a
   * token reports `done`.
   */
  private startRound(now: number, purpose: RoundPurpose, token: number, body: (finish: (decided: boolean, at: number) => void) => void): void {
    this.inFlight = true;
    let finished = false;
    const finish = (decided: boolean, at: number): void => {
      if (finished) return;
      finished = true;
      this.inFlight = false;
      if (purpose === 'drive') {
        const pause = decided ? DECIDED_PAUSE_MS : ROUND_PAUSE_MS * (1 + this.init.random());
        this.nextRoundAt = Math.max(this.nextRoundAt, now + pause, at + (decided ? 0 : pause));
      } else {
        this.out.push({ kind: 'done', token, purpose, ok: decided });
      }
    };
    try {
      body(finish);
    } catch (err) {
      // A throw (the store closed under a stopping node, say) ends the round, never the caller.
      this.log.debug({ err: (err as Error).message }, 'voter-set round failed');
      finish(false, now);
    }
  }

  /** Sends `method` with `body` to `names` (those the member table has an address for) and collects the replies. */
  private ask(names: string[], method: string, body: unknown, now: number, then: (replies: Map<string, Uint8Array>, now: number) => void, fail: (now: number) => void): void {
    const byName = new Map(this.init.peers().map((p) => [p.name, p]));
    const to = names.flatMap((n) => byName.get(n) ?? []);
    this.calls.send(to, method, toJsonPayload(body), now, this.out, then, fail);
  }

  private fetchFrom(peer: ConfigPeer, now: number, finish: (ok: boolean, at: number) => void): void {
    const fail = (at: number): void => finish(false, at);
    this.ask([peer.name], METHODS.quorumConfig, null, now, (replies, at) => {
      const bytes = replies.get(peer.name);
      if (!bytes) {
        this.log.debug({ from: peer.name }, 'voter config fetch failed');
        return finish(false, at);
      }
      try {
        const config = parseVoterConfig(fromJsonPayload(bytes, 'voter config'), `voter config from ${peer.name}`);
        this.saw(peer.name, config.epoch);
        this.adopt(config);
        finish(true, at);
      } catch (err) {
        this.log.debug({ from: peer.name, err: (err as Error).message }, 'voter config fetch failed');
        finish(false, at);
      }
    }, fail);
  }

  /** `chosen` was accepted by a quorum: adopt it and tell every live member. */
  private commit(chosen: VoterConfig, accepted: Set<string>, epoch: number): void {
    const gate = this.gate;
    const before = new Set(gate.removedMembers());
    for (const n of accepted) this.saw(n, epoch);
    if (!gate.adopt(chosen)) return;
    this.planSince = undefined;
    // Members removed earlier and admitted again now cannot know they were removed.
    this.out.push({ kind: 'chosen', config: chosen, back: chosen.voters.filter((v) => before.has(v.name)).map((v) => v.name) });
    const note = toJsonPayload(commitNotice(this.self, chosen, [...accepted]));
    for (const p of this.init.peers()) {
      if (p.alive && p.name !== this.self) this.out.push({ kind: 'notify', to: p.address, method: METHODS.quorumCommit, payload: note });
    }
    this.out.push({ kind: 'adopted' });
  }
}
