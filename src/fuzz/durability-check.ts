// Two continuous invariants of replica sets (issue 21), checked all along a fuzz run:
//   ack-majority  every acknowledged write is stored, at every moment, by a quorum of one of the
//                 replica sets in play (a strict majority; with RF >= N, where the set is every
//                 voter, the voters' rule: exactly half with the tiebreaker counts too): the set on the writer's configuration when it was
//                 acknowledged, or the set on a configuration a running node holds now (old or new
//                 during a move). Checked when the write resolves and every checkEveryMs after.
//   early-drop    no node drops a document before a strict majority of its new replica set (on
//                 the dropper's configuration at that moment) holds everything the dropper held.
// "Holds a write" is Yjs state-vector coverage: node k holds write (client, clock) when its state
// vector of the document has client's clock past it. That is what the node has applied (in memory,
// stored at the next group commit), so the check is a shade lenient about fsync, never strict. A
// node leaving gracefully is down for the schedule at once but runs (stores, acknowledges, drains)
// until it exits, so it is sampled until then. A node that is down counts with what it held when
// last seen running (its store survives a crash and a leave); a node
// whose data directory was wiped is excused for the writes acknowledged before the wipe (a fault the
// claim allows: "a majority ... minus the members that crashed since"). Delete sets are not compared
// (a forget keeps the state vector, so forgotten episodes stay tracked as stored).
import * as Y from 'yjs';
import { placementOf } from '../placement/index.js';
import { configTiebreaker, type VoterConfig } from '../quorum/voter-config.js';
import type { SimCluster } from '../sim/cluster-sim.js';
import { Violation } from './invariants.js';

type StateVector = Map<number, number>;

interface TrackedWrite {
  agent: string;
  docId: string;
  /** The write is held where the state vector has client's clock >= `clock`. */
  client: number;
  clock: number;
  via: number;
  /** The writer's configuration when the write resolved. */
  config: VoterConfig;
  /** Names of nodes wiped after the acknowledgement (excused). */
  excused: Set<string>;
}

export class DurabilityChecker {
  private readonly writes: TrackedWrite[] = [];
  /** Node index -> document -> state vector, as last seen while the node ran. */
  private readonly lastSeen = new Map<number, Map<string, StateVector>>();
  private readonly tapped = new WeakSet<object>();
  /** Nodes leaving gracefully that have not exited yet: down for live(), still running. */
  private readonly leaving = new Set<number>();
  private lastCheck = -Infinity;

  constructor(private readonly c: SimCluster) {}

  /**
   * Carries out `write` (a write through node `via` to `agent`, applied synchronously on `via`) and
   * finds the Yjs clock it moved there; when it resolves, the write is tracked and checked at once.
   */
  track(via: number, agent: string, write: () => Promise<string>): Promise<string> {
    const docId = `agent/${agent}`;
    const docs = this.c.node(via).memoryService.docs;
    const svNow = () => (docs.has(docId) ? decode(docs.stateVector(docId)) : new Map<number, number>());
    const before = svNow();
    const p = write();
    const moved = [...svNow()].filter(([client, clock]) => clock > (before.get(client) ?? 0));
    if (moved.length !== 1) return p; // refused, or changed nothing: not tracked
    const [client, clock] = moved[0]!;
    return p.then((episodeId) => {
      if (!this.c.isDown(via)) {
        const w: TrackedWrite = { agent, docId, client, clock, via, config: this.c.node(via).gate.voterConfig(), excused: new Set() };
        this.writes.push(w);
        this.sampleRunning();
        this.checkWrite(w, this.configsInPlay(), this.c.now(), `when it was acknowledged (episode ${episodeId})`);
      }
      return episodeId;
    });
  }

  /**
   * Node `i` began a graceful leave (down for the schedule from now on); `exited` settles when it
   * has left. Until then it still stores and acknowledges writes and drains, so it is sampled.
   */
  leavingUntil(i: number, exited: Promise<unknown>): void {
    this.leaving.add(i);
    const done = () => this.leaving.delete(i);
    exited.then(done, done);
  }

  /** Node `i`'s data directory is being wiped: the writes acknowledged so far excuse it. */
  wiped(i: number): void {
    const name = this.c.node(i).name;
    for (const w of this.writes) w.excused.add(name);
    this.lastSeen.delete(i);
  }

  /**
   * Samples every running node and checks every tracked write; throws the first Violation. At most
   * every `everyMs` of virtual time unless `force` (a schedule step just ran): holders change only
   * by drops (checked as they happen), crashes and wipes.
   */
  check(force = false, everyMs = 500): void {
    if (!force && this.c.now() - this.lastCheck < everyMs) return;
    this.lastCheck = this.c.now();
    const configs = this.configsInPlay();
    const now = this.c.now();
    this.sampleRunning();
    for (const w of this.writes) this.checkWrite(w, configs, now, '');
  }

  /**
   * Checks every drop on node i from now on (call after every start or restart of node i). A drop
   * happens inside the node's own code, so a violation is handed to `onViolation`, never thrown there.
   */
  watchDrops(i: number, onViolation: (v: Violation) => void): void {
    const docs = this.c.node(i).memoryService.docs;
    if (this.tapped.has(docs)) return;
    this.tapped.add(docs);
    const drop = docs.drop.bind(docs);
    docs.drop = (id: string): boolean => {
      if (id.startsWith('agent/') && docs.has(id)) {
        const v = this.checkDrop(i, id, decode(docs.stateVector(id)));
        if (v) onViolation(v);
      }
      const dropped = drop(id);
      if (dropped) this.lastSeen.get(i)?.delete(id); // a leaver's last drops may come after its last sample
      return dropped;
    };
  }

  private checkDrop(i: number, docId: string, held: StateVector): Violation | undefined {
    this.sampleRunning();
    const config = this.c.node(i).gate.voterConfig();
    const set = placementOf(config).replicas(docId.slice('agent/'.length));
    const holding = set.filter((name) => covers(this.svOf(this.indexOf(name), docId), held));
    if (isQuorum(config, set, new Set(holding))) return undefined;
    return new Violation(
      'early-drop',
      `n${i} dropped ${docId} on configuration ${config.epoch} while only {${holding.join(',')}} of its replica set {${set.join(',')}} held everything it held`,
      this.c.now(),
    );
  }

  private checkWrite(w: TrackedWrite, configs: VoterConfig[], now: number, when: string): void {
    const key = w.agent;
    const tried: string[] = [];
    for (const config of [w.config, ...configs]) {
      if (config.epoch === 0) continue;
      const set = placementOf(config).replicas(key);
      const holders = new Set<string>();
      for (const name of set) {
        const sv = this.svOf(this.indexOf(name), w.docId);
        if ((sv?.get(w.client) ?? 0) >= w.clock || w.excused.has(name)) holders.add(name);
      }
      if (isQuorum(config, set, holders)) return;
      tried.push(`{${set.join(',')}} (configuration ${config.epoch}): ${holders.size} of ${set.length}${2 * holders.size === set.length ? ` (tiebreaker ${configTiebreaker(config) ?? 'none'} not among them)` : ''}`);
    }
    throw new Violation(
      'ack-majority',
      `an acknowledged write to ${w.docId} (via n${w.via}, Yjs client ${w.client} clock ${w.clock}) is not stored by a majority of any replica set in play ${when}: ${[...new Set(tried)].join('; ')}`,
      now,
    );
  }

  /** The distinct committed configurations of the running nodes. */
  private configsInPlay(): VoterConfig[] {
    const out = new Map<number, VoterConfig>();
    for (const i of this.c.live()) {
      const config = this.c.node(i).gate.voterConfig();
      if (!out.has(config.epoch)) out.set(config.epoch, config);
    }
    return [...out.values()];
  }

  /** Samples every node still running: live ones and those leaving that have not exited. */
  private sampleRunning(): void {
    for (const i of this.c.live()) this.sample(i);
    for (const i of this.leaving) this.sample(i);
  }

  private sample(i: number): void {
    let seen = this.lastSeen.get(i);
    if (!seen) this.lastSeen.set(i, (seen = new Map()));
    const docs = this.c.node(i).memoryService.docs;
    seen.clear();
    for (const id of docs.ids()) if (id.startsWith('agent/')) seen.set(id, decode(docs.stateVector(id)));
  }

  /** What node i holds of `docId` as last sampled (running nodes are sampled before every check). */
  private svOf(i: number, docId: string): StateVector | undefined {
    return i < 0 ? undefined : this.lastSeen.get(i)?.get(docId);
  }

  private indexOf(name: string): number {
    return this.c.nodes.findIndex((n) => n.name === name);
  }
}

/** Decoded state vectors by their bytes: an unloaded document's stored state vector is one object until it changes. */
const decoded = new WeakMap<Uint8Array, StateVector>();

function decode(sv: Uint8Array): StateVector {
  let m = decoded.get(sv);
  if (!m) decoded.set(sv, (m = Y.decodeStateVector(sv)));
  return m;
}

/**
 * Whether `holders` are a quorum of replica set `set` on `config`: a strict majority, or, when the
 * set is every voter (RF >= N: an even set only then, as RF is odd), exactly half including the
 * configuration's tiebreaker, as the voters' own rule acknowledges (rules.ts, gate-acks.ts).
 */
function isQuorum(config: VoterConfig, set: readonly string[], holders: ReadonlySet<string>): boolean {
  if (2 * holders.size > set.length) return true;
  const tiebreaker = configTiebreaker(config);
  return 2 * holders.size === set.length && set.length === config.voters.length && tiebreaker !== undefined && holders.has(tiebreaker);
}

/** Whether `sv` has everything `held` has (per client, at least as far). */
function covers(sv: StateVector | undefined, held: StateVector): boolean {
  for (const [client, clock] of held) if ((sv?.get(client) ?? 0) < clock) return false;
  return true;
}
