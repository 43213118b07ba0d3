// Carries voter-set configurations between nodes (the rules are in src/quorum/voter-config.ts):
//   quorum.prepare  Paxos phase 1 for the next epoch (answer: promised or not, and any value accepted);
//   quorum.accept   Paxos phase 2 (answer: accepted or not);
//   quorum.commit   a chosen configuration, sent to every live member once decided;
//   quorum.config   asks a member for its committed configuration (a node that sees a member
//                   advertise a higher epoch fetches it, so a missed commit notice heals).
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
import type { RpcEndpoint } from '../rpc/endpoint.js';
import type { Logger, Runtime } from '../runtime/types.js';
import type { AcceptorAnswer, QuorumGate } from '../quorum/quorum-gate.js';
import { compareBallots, epochOfWord, parseBallot, parseVoterConfig, type Ballot, type VoterConfig } from '../quorum/voter-config.js';

export const QUORUM_PREPARE_METHOD = 'quorum.prepare';
export const QUORUM_ACCEPT_METHOD = 'quorum.accept';
export const QUORUM_COMMIT_METHOD = 'quorum.commit';
export const QUORUM_CONFIG_METHOD = 'quorum.config';
/** How long a phase waits for answers. */
const ROUND_TIMEOUT_MS = 2000;
/** After a failed round of one node (it backs off by up to this much again, at random). */
const ROUND_PAUSE_MS = 1000;
/**
 * After a decided round: short, so a forming cluster whose members turn ACTIVE one after another
 * admits them in a few quick batches (each change admits every learner caught up by then). The
 * commit notice of the last round goes out before this, so the next prepare finds its acceptors
 * on the new epoch.
 */
const DECIDED_PAUSE_MS = 250;
/**
 * The plan's designated proposer is the lowest-named member able to propose; the others propose
 * only if a change stays unproposed this long (it may be cut off, or see the cluster otherwise).
 */
const STANDBY_MS = 3000;
/** How long a node that holds no configuration, and sees nobody who does, waits before founding (bootstrap()). */
const BOOTSTRAP_WAIT_MS = 2000;
/** A member that shows an older configuration is sent ours at most this often. */
const LAGGARD_PUSH_MS = 2000;
/** The same for a member that just sent us a packet (it is certainly in touch). */
const CONTACT_PUSH_MS = 500;
/** The same for a member we hold for dead (it may be alive behind a healed partition). */
const LAGGARD_PUSH_DEAD_MS = 5000;
/**
 * In a cluster of more than GRACE_MIN_PEERS live members, no pushes for this long after our own
 * epoch changed: the chooser's commit notice went to every live member directly, and gossip is
 * carrying their new words. Pushing at once made every change cost N^2 notices (every member saw
 * every other as a laggard for a moment), which a forming cluster, admitting its members in a
 * few changes, paid several times. A small cluster keeps pushing at once: it is cheap there, and
 * a member that accepted a change on one side of a shifting partition learns the outcome before
 * it carries its old word to the other side (quorum-voter-config.test.ts "shifting partitions").
 */
const ADOPT_GRACE_MS = 1000;
const GRACE_MIN_PEERS = 16;
/**
 * In a cluster of more than GRACE_MIN_PEERS live members, a member that shows an older
 * configuration is pushed ours only by this many members: those that follow it in name order
 * among the live members on our configuration. Configurations list every voter, so a push is
 * O(N) bytes, and every member pushing every laggard was O(N^3) bytes while a large cluster
 * formed (1,000 simulated nodes ran out of memory); each laggard still gets this many pushes per
 * period, and fetches by itself once it sees a member on a newer configuration.
 */
const PUSHERS_PER_LAGGARD = 3;

export interface ConfigPeer {
  name: string;
  address: string;
  /** The config word the member advertises. */
  word: number;
  alive: boolean;
}

export interface VoterConfigSyncOptions {
  self: string;
  gate: QuorumGate;
  rpc: RpcEndpoint;
  runtime: Runtime;
  log: Logger;
  peers: () => ConfigPeer[];
  /** After this node chose a configuration (it then tells everyone); `back` are removed members it admitted again. */
  onChosen: (config: VoterConfig, back: string[]) => void;
  /** After this node adopted any newer configuration. */
  onAdopted: () => void;
  /** Run drive() again soon (a planned change waits until a given time). */
  wake: () => void;
  /** After what we know directly of members' configurations changed (quorum counts change). */
  onVerified: () => void;
  /** `name` holds stale metadata of ours (it pushed us a configuration we have): send it our current metadata. */
  onStaleView: (name: string) => void;
}

interface WireAnswer {
  ok: boolean;
  epoch: number;
  accepted?: { ballot: Ballot; config: VoterConfig };
}

function parseAnswer(bytes: Uint8Array, what: string): WireAnswer {
  const v = fromJsonPayload<Record<string, unknown> | null>(bytes, what);
  if (!v || typeof v.ok !== 'boolean' || typeof v.epoch !== 'number') throw new Error(`${what}: malformed`);
  const acc = v.accepted as { ballot?: unknown; config?: unknown } | undefined;
  return {
    ok: v.ok,
    epoch: v.epoch,
    ...(acc ? { accepted: { ballot: parseBallot(acc.ballot, what), config: parseVoterConfig(acc.config, what) } } : {}),
  };
}

function parseRequest(bytes: Uint8Array, what: string): { epoch: number; ballot: Ballot; config?: VoterConfig } {
  const v = fromJsonPayload<Record<string, unknown> | null>(bytes, what);
  if (!v || typeof v.epoch !== 'number' || !Number.isSafeInteger(v.epoch)) throw new Error(`${what}: malformed`);
  return { epoch: v.epoch, ballot: parseBallot(v.ballot, what), ...(v.config !== undefined ? { config: parseVoterConfig(v.config, what) } : {}) };
}

/**
 * The `by` and `epoch` a commit notice starts with, read without parsing the rest (notices this
 * code sends start `{"by":"NAME","epoch":N,`); undefined for anything else, which is parsed whole.
 */
export function commitHeader(payload: Uint8Array): { by: string; epoch: number } | undefined {
  const text = Buffer.from(payload.buffer, payload.byteOffset, Math.min(payload.byteLength, 300)).toString('latin1');
  const m = /^\{"by":"([A-Za-z0-9._:-]{1,128})","epoch":(\d{1,15}),/.exec(text);
  return m ? { by: m[1]!, epoch: Number(m[2]) } : undefined;
}

/** A commit notice's fields, `by` and `epoch` first (see commitHeader). */
function noteBody(by: string, c: VoterConfig): { by: string; epoch: number; voters: VoterConfig['voters']; removed: string[]; id: string } {
  return { by, epoch: c.epoch, voters: c.voters, removed: c.removed, id: c.id };
}

export class VoterConfigSync {
  private inFlight = false;
  /** Since when nobody we see holds a configuration (see bootstrap()). */
  private bootstrapSince: number | undefined;
  private wakeQueued = false;
  private nextRoundAt = -Infinity;
  /** Since when the gate has planned a change we have not proposed (see STANDBY_MS). */
  private planSince: number | undefined;
  private viewMemo: { from: ConfigPeer[]; epoch: number; laggards: ConfigPeer[]; ahead: ConfigPeer | undefined; peers: ConfigPeer[] } | undefined;
  /** Our configuration as a commit notice (a push), encoded once per configuration. */
  private noteMemo: { config: VoterConfig; bytes: Uint8Array } | undefined;
  /** The highest round seen in answers, so the next ballot outbids it. */
  private seenRound = 0;
  /** The epoch we last saw ourselves on, and since when (see ADOPT_GRACE_MS). */
  private epochSeen = -1;
  private epochSince = -Infinity;
  /** When we last answered each member's stale view of us with our metadata. */
  private readonly answeredAt = new Map<string, number>();
  /** When we last pushed our configuration to a member that showed an older one. */
  private readonly pushedAt = new Map<string, number>();
  /** A newer committed epoch than gossip shows, that a member showed us directly (see countedWord). */
  private readonly verified = new Map<string, number>();

  constructor(private readonly o: VoterConfigSyncOptions) {
    const { rpc, gate } = o;
    rpc.handle(QUORUM_PREPARE_METHOD, 'member', (payload) => {
      const r = parseRequest(payload, 'voter-set prepare');
      return toJsonPayload(gate.prepare(r.epoch, r.ballot));
    });
    rpc.handle(QUORUM_ACCEPT_METHOD, 'member', (payload) => {
      const r = parseRequest(payload, 'voter-set accept');
      if (!r.config || r.config.epoch !== r.epoch) throw new Error('voter-set accept: no value for the epoch');
      const wasPending = gate.pending() !== undefined;
      const answer = gate.accept(r.ballot, r.config);
      // Its proposer is deciding now: run Paxos for it ourselves only if it goes quiet.
      if (!wasPending && answer.ok) this.nextRoundAt = Math.max(this.nextRoundAt, o.runtime.clock.now() + 2 * ROUND_TIMEOUT_MS);
      return toJsonPayload(answer);
    });
    rpc.onNotify(QUORUM_COMMIT_METHOD, 'member', (payload) => {
      // A push of a configuration we hold (most of them, while a large cluster forms): answered
      // from its header, without parsing a list of every voter.
      const head = commitHeader(payload);
      if (head && head.epoch <= gate.voterConfig().epoch && gate.pending() === undefined) return this.staleViewSeen(head.by);
      const body = fromJsonPayload<{ acceptors?: unknown; by?: unknown }>(payload, 'voter-set commit');
      const config = parseVoterConfig(body, 'voter-set commit');
      // Pushed a configuration we already hold: the sender sees our metadata as older than it is.
      if (config.epoch <= gate.voterConfig().epoch && gate.pending() === undefined) this.staleViewSeen(typeof body?.by === 'string' ? body.by : undefined);
      if (config.epoch > gate.voterConfig().epoch) {
        // Whoever chose it is on it, and its acceptors can only end on it: count them at once.
        if (typeof body?.by === 'string') this.saw(body.by, config.epoch);
        if (Array.isArray(body?.acceptors)) for (const n of body.acceptors.slice(0, 1024)) if (typeof n === 'string') this.saw(n, config.epoch);
      }
      this.adopt(config);
    });
    rpc.handle(QUORUM_CONFIG_METHOD, 'member', () => toJsonPayload(gate.voterConfig()));
  }

  /**
   * `by` pushed us a configuration we hold: it sees our metadata as older than it is. Answer it
   * directly, at most once per CONTACT_PUSH_MS. (A re-announce to a random sample of members, as
   * before, rarely reached it in a large cluster, where a forming cluster's many metadata updates
   * crowd the gossip queues: it kept pushing until a push-pull repaired its view, and every
   * push re-announced to 64 members. Every voter with a stale view pushes, so each gets its answer.)
   */
  private staleViewSeen(by: string | undefined): void {
    const now = this.o.runtime.clock.now();
    if (by === undefined || by === this.o.self || now - (this.answeredAt.get(by) ?? -Infinity) < CONTACT_PUSH_MS) return;
    if (this.answeredAt.size > 4096) this.answeredAt.clear();
    this.answeredAt.set(by, now);
    this.o.onStaleView(by);
  }

  /** Records that `name` is on (or can only end on) `epoch`, as it showed us directly. */
  private saw(name: string, epoch: number): void {
    if (name === this.o.self || this.verified.get(name) === epoch) return;
    this.verified.set(name, epoch);
    this.o.onVerified();
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

  private adopt(config: VoterConfig): void {
    if (this.o.gate.adopt(config)) {
      this.planSince = undefined;
      this.o.onAdopted();
    }
  }

  /**
   * What drive() reads of the peers, recomputed only when the peer list or our epoch changed
   * (every quorum check on every node calls drive(): at 1,000 nodes, rescanning was most of it).
   */
  private view(epoch: number): { laggards: ConfigPeer[]; ahead: ConfigPeer | undefined; peers: ConfigPeer[] } {
    const from = this.o.peers();
    const v = this.viewMemo;
    if (v && v.from === from && v.epoch === epoch) return v;
    const all = from.filter((p) => p.name !== this.o.self);
    const peers = all.filter((p) => p.alive);
    const ahead = peers.filter((p) => epochOfWord(p.word) > epoch).sort((a, b) => b.word - a.word)[0];
    const laggards = epoch === 0 ? [] : all.filter((p) => epochOfWord(p.word) < epoch);
    this.viewMemo = { from, epoch, laggards, ahead, peers };
    return this.viewMemo;
  }

  /**
   * Whether we are one of the members that push `name` our configuration (PUSHERS_PER_LAGGARD):
   * always in a small cluster; in a large one, when we follow it in name order among the live
   * members on our configuration (ourselves included), wrapping around.
   */
  private pushesTo(name: string, epoch: number): boolean {
    const v = this.view(epoch);
    if (v.peers.length <= GRACE_MIN_PEERS) return true;
    // We follow `name` within PUSHERS_PER_LAGGARD when fewer than that many members on our
    // configuration lie between it and us in circular name order. One pass, no sorted copy:
    // this runs only for a laggard whose push is due, while views change on every member event.
    const self = this.o.self;
    const between = (x: string): boolean => (name < self ? x > name && x < self : x > name || x < self);
    let count = 0;
    for (const p of v.peers) {
      if (p.name === name || epochOfWord(p.word) !== epoch || !between(p.name)) continue;
      if (++count >= PUSHERS_PER_LAGGARD) return false;
    }
    return true;
  }

  /** Our configuration as a commit notice: `by` and `epoch` first, so a receiver on it can skip the rest (commitHeader). */
  private note(): Uint8Array {
    const config = this.o.gate.voterConfig();
    if (this.noteMemo?.config !== config) this.noteMemo = { config, bytes: toJsonPayload(noteBody(this.o.self, config)) };
    return this.noteMemo.bytes;
  }

  drive(now: number): void {
    const { gate } = this.o;
    const epoch = gate.voterConfig().epoch;
    const { laggards, ahead, peers } = this.view(epoch);
    this.pushToLaggards(now, laggards, epoch, peers.length);
    if (this.inFlight || now < this.nextRoundAt) return;
    if (ahead) return this.round(now, () => this.fetchFrom(ahead));
    if (epoch === 0) return this.bootstrap(now, peers);
    this.bootstrapSince = undefined;
    // Everyone on our epoch (committed, or pending on it) takes part.
    const ask = peers.filter((p) => epochOfWord(p.word) === epoch).map((p) => p.name);
    const pending = gate.pending();
    if (pending) return this.round(now, () => this.paxos(pending, ask));
    const plan = gate.changePlan(now);
    if (!plan) {
      this.planSince = undefined;
      // Admissions waiting for learners to stop arriving: look again when the wait ends, not at
      // the next periodic check (up to 500 ms later).
      const due = gate.admissionDueAt();
      if (due !== undefined && due > now && !this.wakeQueued) {
        this.wakeQueued = true;
        this.o.runtime.scheduler.schedule(Math.max(0, due - now), () => {
          this.wakeQueued = false;
          this.o.wake();
        });
      }
      return;
    }
    this.planSince ??= now;
    if (plan.ask.some((n) => n < this.o.self) && now - this.planSince < STANDBY_MS) return;
    this.o.log.info({ epoch: plan.proposal.epoch, admit: plan.admit.slice(0, 32), down: plan.down, leave: plan.leave, ask: plan.ask.length }, 'proposing a voter-set change');
    this.round(now, () => this.paxos(plan.proposal, plan.ask));
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
    if (this.o.gate.pending() || peers.some((p) => p.name < this.o.self) || this.o.peers().some((p) => p.word > 0)) {
      this.bootstrapSince = undefined;
      return;
    }
    this.bootstrapSince ??= now;
    if (now - this.bootstrapSince >= BOOTSTRAP_WAIT_MS) this.o.gate.found();
  }

  /**
   * A voter leaving gracefully proposes its own removal first (one Paxos round, waited for at most
   * `maxMs`), so the voter set shrinks through a configuration like any other change. Returns
   * whether it was removed; if not (it was not a writable voter, or the round failed), the
   * writable side removes it once it sees it LEFT.
   */
  async leave(maxMs: number): Promise<boolean> {
    const { gate, runtime } = this.o;
    const deadline = runtime.clock.now() + maxMs;
    // One round at a time: let a round in flight finish (it may be the one that decides our epoch).
    while (this.inFlight && runtime.clock.now() < deadline) await new Promise<void>((r) => runtime.scheduler.schedule(50, r));
    const plan = gate.leavePlan();
    if (!plan || this.inFlight) return false;
    this.o.log.info({ epoch: plan.proposal.epoch }, 'leaving: proposing our own removal from the voter set');
    this.inFlight = true;
    try {
      return await Promise.race([
        this.paxos(plan.proposal, plan.ask).then(() => !gate.isVoter(this.o.self)),
        new Promise<boolean>((r) => runtime.scheduler.schedule(Math.max(0, deadline - runtime.clock.now()), () => r(false))),
      ]);
    } catch {
      return false;
    } finally {
      this.inFlight = false;
    }
  }

  /**
   * Members that show an older configuration get ours pushed directly. Gossip alone is not
   * enough: a node's metadata update can be spent on a side it was cut off from, and then others
   * see its old word until the next push-pull (30 s on lan) while it already counts on the new
   * configuration. A node still on an old epoch that counts members by such stale words could
   * call itself writable with them; pushing the configuration to it ends that within a check.
   * Members we hold for dead are included (less often): after a partition heals, the cut-off
   * side sees us alive (we answer its probes) well before we see it alive again.
   */
  private pushToLaggards(now: number, peers: ConfigPeer[], epoch: number, live: number): void {
    // Only voters push: quorums count voters' words, and a learner's view counts for nobody.
    if (epoch === 0 || !this.o.gate.isVoter(this.o.self) || this.inGrace(now, epoch, live)) return;
    for (const p of peers) {
      if (epochOfWord(p.word) >= epoch || now - (this.pushedAt.get(p.name) ?? -Infinity) < (p.alive ? LAGGARD_PUSH_MS : LAGGARD_PUSH_DEAD_MS)) continue;
      if (!this.pushesTo(p.name, epoch)) continue;
      this.pushedAt.set(p.name, now);
      this.o.rpc.notify(p.address, QUORUM_COMMIT_METHOD, this.note()).catch(() => undefined);
    }
  }

  /** Whether our epoch changed less than ADOPT_GRACE_MS ago, in a cluster of more than GRACE_MIN_PEERS. */
  private inGrace(now: number, epoch: number, peers: number): boolean {
    if (epoch !== this.epochSeen) {
      this.epochSeen = epoch;
      this.epochSince = now;
    }
    return peers > GRACE_MIN_PEERS && now - this.epochSince < ADOPT_GRACE_MS;
  }

  /**
   * A packet came from `name`, which gossip shows on an older configuration: it is in touch with
   * us and may be counting members by their old words, so push it ours now rather than at the
   * next check (at most once per CONTACT_PUSH_MS and member).
   */
  contact(name: string, gossiped: number): void {
    const epoch = this.o.gate.voterConfig().epoch;
    if (epochOfWord(gossiped) >= epoch) return;
    const now = this.o.runtime.clock.now();
    if (!this.o.gate.isVoter(this.o.self) || this.inGrace(now, epoch, this.viewMemo?.peers.length ?? 0)) return;
    if (now - (this.pushedAt.get(name) ?? -Infinity) < CONTACT_PUSH_MS || !this.pushesTo(name, epoch)) return;
    const p = this.o.peers().find((x) => x.name === name);
    if (!p) return;
    this.pushedAt.set(name, now);
    this.o.rpc.notify(p.address, QUORUM_COMMIT_METHOD, this.note()).catch(() => undefined);
  }

  private round(now: number, fn: () => Promise<boolean | void>): void {
    this.inFlight = true;
    void fn()
      .then(
        (done) => done !== false,
        (err: Error) => {
          this.o.log.debug({ err: err.message }, 'voter-set round failed');
          return false;
        },
      )
      .then((done) => {
        this.inFlight = false;
        // A lost round backs off at random, so duelling proposers stop outbidding each other.
        const pause = done ? DECIDED_PAUSE_MS : ROUND_PAUSE_MS * (1 + this.o.runtime.rng.next());
        this.nextRoundAt = Math.max(this.nextRoundAt, now + pause, this.o.runtime.clock.now() + (done ? 0 : pause));
      });
  }

  /**
   * Adopts `name`'s configuration if it is newer than ours: a node that restarts or joins asks
   * while it catches up, so it never turns ACTIVE counting voters on a configuration the cluster
   * has left (the members' metadata it learnt may be stale).
   */
  async catchUpFrom(name: string): Promise<boolean> {
    const peer = this.o.peers().find((p) => p.name === name);
    if (!peer) return false;
    try {
      await this.fetchFrom(peer);
      return true;
    } catch (err) {
      this.o.log.debug({ from: name, err: (err as Error).message }, 'voter config fetch failed');
      return false;
    }
  }

  private async fetchFrom(peer: ConfigPeer): Promise<void> {
    const reply = await this.o.rpc.call(peer.address, QUORUM_CONFIG_METHOD, new Uint8Array(0), ROUND_TIMEOUT_MS);
    const config = parseVoterConfig(fromJsonPayload(reply, 'voter config'), `voter config from ${peer.name}`);
    this.saw(peer.name, config.epoch);
    this.adopt(config);
  }

  /** Asks `names` (in parallel) and returns who answered what; unreachable members are left out. */
  private async ask(names: string[], method: string, body: unknown): Promise<Map<string, WireAnswer>> {
    const byName = new Map(this.o.peers().map((p) => [p.name, p]));
    const payload = toJsonPayload(body);
    const out = new Map<string, WireAnswer>();
    await Promise.all(
      names.map(async (name) => {
        const p = byName.get(name);
        if (!p) return;
        try {
          const a = parseAnswer(await this.o.rpc.call(p.address, method, payload, ROUND_TIMEOUT_MS), `${method} answer from ${name}`);
          out.set(name, a);
          if (a.accepted) this.seenRound = Math.max(this.seenRound, a.accepted.ballot.round);
        } catch {
          // unreachable or refused: not part of the quorum
        }
      }),
    );
    return out;
  }

  /** One Paxos round for the next epoch, proposing `value` unless a value may already be chosen. Returns whether it decided. */
  // Learners a proposal admits are not asked: they would count on the new configuration a moment
  // sooner (a batch larger than the voters it joins leaves the proposer read-only until their
  // commit notices and new words came back, a few ms), but each answer is a persisted record and
  // two metadata updates gossiped to everyone: a 200-node simulated cluster forming took 60% more
  // wall time with them asked.
  private async paxos(value: VoterConfig, names: string[]): Promise<boolean> {
    const gate = this.o.gate;
    const epoch = gate.voterConfig().epoch + 1;
    if (value.epoch !== epoch) return false;
    const ballot: Ballot = { round: gate.nextRound(this.seenRound), name: this.o.self };
    const own: AcceptorAnswer = gate.prepare(epoch, ballot);
    if (!own.ok) return false;
    const promises = await this.ask(names, QUORUM_PREPARE_METHOD, { epoch, ballot });
    if (gate.voterConfig().epoch + 1 !== epoch) return true; // decided meanwhile
    const promised = new Set([this.o.self, ...[...promises].filter(([, a]) => a.ok).map(([n]) => n)]);
    if (!gate.isQuorum(promised)) return false;
    // Paxos: if any member of the quorum accepted a value, propose the one with the highest ballot.
    let best = own.accepted;
    for (const n of promised) {
      const a = promises.get(n)?.accepted;
      if (a && compareBallots(a.ballot, best?.ballot) > 0) best = a;
    }
    const chosen = best?.config ?? value;
    if (!gate.accept(ballot, chosen).ok) return false;
    const accepts = await this.ask([...promised].filter((n) => n !== this.o.self), QUORUM_ACCEPT_METHOD, { epoch, ballot, config: chosen });
    if (gate.voterConfig().epoch + 1 !== epoch) return true;
    const accepted = new Set([this.o.self, ...[...accepts].filter(([, a]) => a.ok).map(([n]) => n)]);
    if (!gate.isQuorum(accepted)) return false;
    const before = new Set(gate.removedMembers());
    for (const n of accepted) this.saw(n, epoch);
    if (!gate.adopt(chosen)) return true;
    this.planSince = undefined;
    // Members removed earlier and admitted again now cannot know they were removed.
    this.o.onChosen(
      chosen,
      chosen.voters.filter((v) => before.has(v.name)).map((v) => v.name),
    );
    const note = toJsonPayload({ ...noteBody(this.o.self, chosen), acceptors: [...accepted] });
    for (const p of this.o.peers()) {
      if (p.alive && p.name !== this.o.self) this.o.rpc.notify(p.address, QUORUM_COMMIT_METHOD, note).catch(() => undefined);
    }
    this.o.onAdopted();
    return true;
  }
}
