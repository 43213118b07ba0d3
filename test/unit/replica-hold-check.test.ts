// Quiet handoff (issue 21): a displaced holder pushes a document only to its new replicas and asks
// each continuing one by snapshot (state vector + delete set, no content) whether it already holds
// everything; the answering side (ReplicaPeers) refuses and counts questions from non-members,
// from another configuration, and about documents it neither replicates nor holds, changing nothing.
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { DecodeError } from '../../src/errors.js';
import { Handoff } from '../../src/memory/handoff.js';
import { compareHeld, holdSnapshot, holdsEverything } from '../../src/memory/hold-check.js';
import { ReplicaPeers, RefusedError } from '../../src/memory/replica-peers.js';
import { ReplicaView } from '../../src/memory/replica-view.js';
import { placementOf } from '../../src/placement/index.js';
import type { VoterConfig } from '../../src/quorum/voter-config.js';
import type { Logger, Scheduler } from '../../src/runtime/types.js';
import type { SyncEffect } from '../../src/sync/types.js';

const silent: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, child: () => silent };
const names = (n: number): string[] => Array.from({ length: n }, (_, i) => `n${i}`);

function config(voters: string[], epoch: number, rf = 3): VoterConfig {
  return { epoch, id: `${epoch}/t`, voters: voters.map((name) => ({ name, role: 'hybrid' as const })), removed: [], replicationFactor: rf };
}

function docWith(client: number, texts: string[]): Y.Doc {
  const d = new Y.Doc();
  d.clientID = client;
  for (const t of texts) d.getArray<string>('episodes').push([t]);
  return d;
}

function copy(d: Y.Doc, client: number): Y.Doc {
  const c = new Y.Doc();
  c.clientID = client;
  Y.applyUpdate(c, Y.encodeStateAsUpdate(d));
  return c;
}

/** A view whose committed configuration can be swapped (the gate's part the view reads). */
function viewOn(self: string, cfg: { current: VoterConfig }): ReplicaView {
  return new ReplicaView(self, { voterConfig: () => cfg.current, pending: () => undefined, reachableVoters: () => new Set(cfg.current.voters.map((v) => v.name)), ackPlan: () => ({ voters: new Set(), needed: 0, complete: () => true }) });
}

describe('compareHeld: snapshots, no content', () => {
  it('equal copies hold each other; an extra insert or an extra deletion on one side shows in the right direction', () => {
    const a = docWith(1, ['x', 'y']);
    const b = copy(a, 2);
    const snapA = holdSnapshot(a)!;
    expect(compareHeld(b, snapA)).toEqual({ holds: true, within: true }); // no state vector when it holds everything

    b.getArray<string>('episodes').push(['z']); // b has more: it holds everything of a, a is within b but not vice versa
    expect(compareHeld(b, snapA)).toEqual({ holds: true, within: false });
    const lacking = compareHeld(a, holdSnapshot(b)!);
    expect(lacking).toMatchObject({ holds: false, within: true });
    // A copy that lacks something answers its state vector: the asker's diff against it makes it hold everything.
    const a2 = copy(a, 4);
    Y.applyUpdate(a2, Y.encodeStateAsUpdate(b, lacking.sv));
    expect(compareHeld(a2, holdSnapshot(b)!)).toEqual({ holds: true, within: true });
    expect(compareHeld(null, holdSnapshot(b)!).sv).toBeUndefined(); // no copy: the whole document

    // A deletion changes no state vector: the delete set tells it apart.
    const c = copy(a, 3);
    c.getArray<string>('episodes').delete(0, 1);
    expect(Y.encodeStateVector(c)).toEqual(Y.encodeStateVector(a));
    expect(holdsEverything(a, holdSnapshot(c)!)).toBe(false);
    expect(holdsEverything(c, snapA)).toBe(true);
  });

  it('no copy holds nothing but is within anything; a copy with structs waiting for dependencies has no snapshot', () => {
    const a = docWith(1, ['x']);
    expect(compareHeld(null, holdSnapshot(a)!)).toEqual({ holds: false, within: true });
    const later = docWith(1, ['x', 'y']);
    const gap = new Y.Doc();
    Y.applyUpdate(gap, Y.encodeStateAsUpdate(later, Y.encodeStateVector(a))); // the second insert without the first
    expect(gap.store.pendingStructs).not.toBeNull();
    expect(holdSnapshot(gap)).toBeUndefined();
  });

  it('bytes that are not a snapshot: DecodeError', () => {
    expect(() => compareHeld(docWith(1, ['x']), Uint8Array.of(200, 1, 2))).toThrow(DecodeError);
  });
});

describe('ReplicaPeers: bad questions refused, counted, nothing changed', () => {
  const voters = names(6);
  const cfg = { current: config(voters, 5) };
  const placement = placementOf(cfg.current);
  const agent = Array.from({ length: 50 }, (_, i) => `a${i}`).find((a) => placement.replicas(a).includes('n0'))!;
  const doc = `agent/${agent}`;
  const other = Array.from({ length: 50 }, (_, i) => `a${i}`).find((a) => !placement.replicas(a).includes('n0'))!;
  const held = new Map<string, Y.Doc>([[doc, docWith(1, ['x'])]]);
  const docs = { has: (id: string) => held.has(id), doc: (id: string) => held.get(id)! };
  const told: number[] = [];
  const peers = new ReplicaPeers({ view: viewOn('n0', cfg), docs, completion: { doneHere: (e) => e === 5, releasedAt: () => false, told: (e) => void told.push(e) } });
  const snap = holdSnapshot(held.get(doc)!)!;

  it('answers a voter on its configuration about a document it replicates', () => {
    expect(peers.holdCheck({ from: 'n1', epoch: 5, doc, snapshot: snap })).toEqual({ holds: true, within: true });
    expect(peers.moveDone({ from: 'n1', epoch: 5 })).toEqual({ done: true, released: false });
  });

  it('refuses a non-member, another configuration, and a document neither replicated nor held here', () => {
    const before = Y.encodeStateAsUpdate(held.get(doc)!);
    expect(() => peers.holdCheck({ from: 'n9', epoch: 5, doc, snapshot: snap })).toThrow(/not a voter of configuration 5/);
    expect(() => peers.moveDone({ from: 'intruder', epoch: 5 })).toThrow(RefusedError);
    expect(() => peers.holdCheck({ from: 'n1', epoch: 4, doc, snapshot: snap })).toThrow(/it is on configuration 4, this node on 5/);
    expect(() => peers.moveDone({ from: 'n1', epoch: 6, released: true })).toThrow(RefusedError);
    expect(() => peers.moveDone({ from: 'n9', epoch: 5, released: true })).toThrow(RefusedError);
    expect(told).toEqual([]); // a refused "every voter is done" releases nothing
    expect(() => peers.holdCheck({ from: 'n1', epoch: 5, doc: `agent/${other}`, snapshot: snap })).toThrow(/is not one of its replicas on configuration 5 and does not hold it/);
    expect(() => peers.holdCheck({ from: 'n1', epoch: 5, doc: 'tasks', snapshot: snap })).toThrow(RefusedError); // not a placed document
    expect(peers.refused).toEqual({ 'non-member': 3, 'other-configuration': 2, 'not-replica': 2 });
    expect(peers.refusedTotal()).toBe(7);
    expect(Y.encodeStateAsUpdate(held.get(doc)!)).toEqual(before);
    expect(held.has(`agent/${other}`)).toBe(false);
  });

  it('a malformed snapshot from a member is a DecodeError, not a crash', () => {
    expect(() => peers.holdCheck({ from: 'n1', epoch: 5, doc, snapshot: Uint8Array.of(255, 255, 255) })).toThrow(DecodeError);
  });
});

/** A scheduler that runs what is due when told to. */
class ManualScheduler implements Scheduler {
  now = 0;
  private jobs: Array<{ at: number; fn: () => void; live: boolean }> = [];
  schedule(delayMs: number, fn: () => void): () => void {
    const job = { at: this.now + delayMs, fn, live: true };
    this.jobs.push(job);
    return () => {
      job.live = false;
    };
  }
  advance(ms: number): void {
    this.now += ms;
    for (;;) {
      const due = this.jobs.filter((j) => j.live && j.at <= this.now).sort((a, b) => a.at - b.at)[0];
      if (!due) return;
      due.live = false;
      due.fn();
    }
  }
}

const flush = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

describe('Handoff with hold-checks: every replica asked first, bytes only to those that lack something', () => {
  // n0..n5 -> n0..n6: find a document n0 held and is displaced from by the joiner n6.
  const before = config(names(6), 1);
  const after = config(names(7), 2);
  const agent = Array.from({ length: 500 }, (_, i) => `a${i}`).find((a) => placementOf(before).replicas(a).includes('n0') && !placementOf(after).replicas(a).includes('n0'))!;
  const doc = `agent/${agent}`;
  const newSet = placementOf(after).replicas(agent);
  const oldSet = placementOf(before).replicas(agent);
  const continuing = newSet.filter((n) => oldSet.includes(n));
  const fresh = newSet.filter((n) => !oldSet.includes(n));

  function setup(answer: (peer: string) => Promise<{ holds: boolean; sv?: Uint8Array }>) {
    const cfg = { current: before };
    const view = viewOn('n0', cfg);
    view.current();
    cfg.current = after;
    view.current(); // the previous scope is known: n0 was in the old set
    const sched = new ManualScheduler();
    let held = true;
    const pushes: Array<{ id: number; targets: readonly string[]; since?: Uint8Array }> = [];
    const asked: string[] = [];
    const handoff = new Handoff({
      view,
      docs: { ids: () => (held ? [doc] : []), has: () => held, digest: () => Uint8Array.of(1, 2, 3), drop: () => ((held = false), true) },
      pushWhole: (_id, targets, since) => {
        const id = pushes.length + 1;
        pushes.push({ id, targets: [...targets], ...(since ? { since } : {}) });
        return { requestId: id, effects: [] as SyncEffect[] };
      },
      forgetDoc: () => undefined,
      peers: () => names(7).filter((n) => n !== 'n0'),
      countsAck: () => true,
      run: () => undefined,
      scheduler: sched,
      now: () => sched.now,
      log: silent,
      confirm: {
        snapshot: () => Uint8Array.of(0, 0),
        ask: (peer) => {
          asked.push(peer);
          return answer(peer);
        },
      },
    });
    return { handoff, pushes, asked, sched, isHeld: () => held };
  }

  it('asks every replica first: the new one (pre-warmed) gets only what it lacks, a continuing one confirms, then drops', async () => {
    expect(fresh).toHaveLength(1);
    expect(continuing).toHaveLength(2);
    const sv = Uint8Array.of(1, 5, 9);
    // The new replica lacks the last writes; one continuing replica confirms; the other does not answer (yet).
    const s = setup((peer) => (fresh.includes(peer) ? Promise.resolve({ holds: false, sv }) : peer === continuing[0] ? Promise.resolve({ holds: true }) : new Promise(() => undefined)));
    s.handoff.round();
    expect(s.pushes).toEqual([]); // nothing sent before the answers
    expect(s.asked.sort()).toEqual([...newSet].sort());
    await flush();
    expect(s.pushes.map((p) => p.targets)).toEqual([fresh]);
    expect(s.pushes[0]!.since).toEqual(sv); // a diff against the new replica's state vector, not the whole document
    expect(s.handoff.confirmations).toBe(1);
    expect(s.isHeld()).toBe(true); // 1 of 3
    s.handoff.ack(s.pushes[0]!.id, fresh[0]!, 1);
    expect(s.isHeld()).toBe(false); // the new replica stored what it lacked: 2 of 3 hold everything
    expect(s.pushes).toHaveLength(1);
  });

  it('two continuing replicas that confirm are a majority: dropped without a byte to the new one (anti-entropy brings it)', async () => {
    const s = setup((peer) => (fresh.includes(peer) ? new Promise(() => undefined) : Promise.resolve({ holds: true })));
    s.handoff.round();
    await flush();
    expect(s.handoff.confirmations).toBe(2);
    expect(s.isHeld()).toBe(false);
    expect(s.pushes).toEqual([]);
  });

  it('a continuing replica that lacks something gets the document; one that refuses is asked again, then pushed', async () => {
    let refusals = 0;
    const s = setup(async (peer) => {
      if (peer === continuing[0] || fresh.includes(peer)) return { holds: false }; // lacks something (no copy: the whole document)
      refusals++;
      throw new RefusedError('other-configuration', 'not on configuration 2 yet');
    });
    s.handoff.round();
    await flush();
    expect(s.pushes.map((p) => p.targets[0]).sort()).toEqual([...fresh, continuing[0]].sort());
    expect(s.pushes.every((p) => p.since === undefined)).toBe(true);
    expect(s.isHeld()).toBe(true); // nobody acknowledged yet
    for (let i = 0; i < 6; i++) {
      s.sched.advance(200);
      await flush();
    }
    expect(refusals).toBe(6); // the first question and five retries
    expect(s.pushes.at(-1)!.targets).toEqual(continuing.slice(1)); // then it gets the push
    for (const p of s.pushes) for (const t of p.targets) s.handoff.ack(p.id, t, 1);
    expect(s.isHeld()).toBe(false);
  });
});
