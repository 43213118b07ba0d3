// Per-document move completion (issue 21): the member that completed a document's move onto a
// configuration tells the document's other replicas (memory.move-done with `doc`); each marks that
// document complete, so its writes need the new set only and it stops counting as moving, document
// by document, without waiting for every voter to be done. A notice from a non-member, from another
// configuration, or about a document this node neither replicates, holds nor held is refused,
// counted, and changes nothing. ReplicaPeers driven directly (sans-IO).
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { ReplicaPeers, RefusedError } from '../../src/memory/replica-peers.js';
import { ReplicaView } from '../../src/memory/replica-view.js';
import { placementOf } from '../../src/placement/index.js';
import type { VoterConfig } from '../../src/quorum/voter-config.js';

const names = (n: number): string[] => Array.from({ length: n }, (_, i) => `n${i}`);

function config(voters: string[], epoch: number, rf = 3): VoterConfig {
  return { epoch, id: `${epoch}/t`, voters: voters.map((name) => ({ name, role: 'hybrid' as const })), removed: [], replicationFactor: rf };
}

/** n0's view: 6 voters on epoch 4, then a 7th joins (epoch 5); the documents whose set changed are moving. */
function setup(): { peers: ReplicaPeers; view: ReplicaView; moved: string[]; stayed: string; foreign: string; noticed: string[] } {
  const cfg = { current: config(names(6), 4) };
  const view = new ReplicaView('n0', { voterConfig: () => cfg.current, pending: () => undefined, reachableVoters: () => new Set(cfg.current.voters.map((v) => v.name)), ackPlan: () => ({ voters: new Set(), needed: 0, complete: () => true }) });
  view.current();
  const before = placementOf(cfg.current);
  cfg.current = config(names(7), 5);
  const after = placementOf(cfg.current);
  const agents = Array.from({ length: 200 }, (_, i) => `a${i}`);
  const moved = agents.filter((a) => after.replicas(a).includes('n0') && before.replicas(a).join() !== after.replicas(a).join()).map((a) => `agent/${a}`);
  const stayed = `agent/${agents.find((a) => after.replicas(a).includes('n0') && before.replicas(a).join() === after.replicas(a).join())!}`;
  const foreign = `agent/${agents.find((a) => !after.replicas(a).includes('n0') && !before.replicas(a).includes('n0'))!}`;
  const held = new Map<string, Y.Doc>(moved.map((id) => [id, new Y.Doc()]));
  const noticed: string[] = [];
  const peers = new ReplicaPeers({
    view,
    docs: { has: (id) => held.has(id), doc: (id) => held.get(id)! },
    completion: { doneHere: () => false, releasedAt: () => false, told: () => undefined },
    onDocMoved: (id) => void noticed.push(id),
  });
  return { peers, view, moved, stayed, foreign, noticed };
}

describe('per-document move completion notices', () => {
  it('a notice marks that one document complete: its writes need the new set only; the others still move', () => {
    const { peers, view, moved, noticed } = setup();
    expect(moved.length).toBeGreaterThan(2);
    for (const id of moved) expect(view.previousSets(id).length, id).toBeGreaterThan(0);
    peers.moveDone({ from: 'n3', epoch: 5, doc: moved[0]! });
    expect(view.previousSets(moved[0]!)).toEqual([]);
    expect(view.planFor(moved[0]!).voters.size).toBe(2); // the current set's other two replicas only
    for (const id of moved.slice(1)) expect(view.previousSets(id).length, id).toBeGreaterThan(0);
    expect(noticed).toEqual([moved[0]]);
    expect(peers.docsMoved).toBe(1);
  });

  it('the joiner, on the new configuration, may tell it too; a document not moving is left as it is', () => {
    const { peers, view, moved, stayed, noticed } = setup();
    peers.moveDone({ from: 'n6', epoch: 5, doc: moved[1]! });
    expect(view.previousSets(moved[1]!)).toEqual([]);
    peers.moveDone({ from: 'n2', epoch: 5, doc: stayed });
    expect(noticed).toEqual([moved[1]]);
  });

  it('refuses a non-member, another configuration, and a document neither replicated, held nor held before; nothing changes', () => {
    const { peers, view, moved, foreign, noticed } = setup();
    expect(() => peers.moveDone({ from: 'intruder', epoch: 5, doc: moved[0]! })).toThrow(/not a voter of configuration 5/);
    expect(() => peers.moveDone({ from: 'n3', epoch: 4, doc: moved[0]! })).toThrow(/it is on configuration 4, this node on 5/);
    expect(() => peers.moveDone({ from: 'n3', epoch: 6, doc: moved[0]! })).toThrow(RefusedError);
    expect(() => peers.moveDone({ from: 'n3', epoch: 5, doc: foreign })).toThrow(/move-done for .* refused: this node \(n0\) is not one of its replicas/);
    expect(() => peers.moveDone({ from: 'n3', epoch: 5, doc: 'tasks' })).toThrow(RefusedError);
    expect(peers.refused).toEqual({ 'non-member': 1, 'other-configuration': 2, 'not-replica': 2 });
    for (const id of moved) expect(view.previousSets(id).length, id).toBeGreaterThan(0);
    expect(noticed).toEqual([]);
    expect(peers.docsMoved).toBe(0);
  });
});
