// Whether a fuzz run may wipe a node's data directory. A crash is healed by the last heal (the node
// restarts with its promises), but a wipe destroys a voter entry's incarnation for good: the entry
// then never votes again (voter-identity.ts), and only a configuration change replaces it. If the
// voters whose data survives are no writable set of the configuration in force, nobody can make
// that change, and the cluster is read-only until an operator acts (`tri operator force-voters`), which is
// the design, not a liveness bug. `tri fuzz --seed 1616 --nodes 5` run 49 did exactly that: a leave
// and two downings left the voters {n0, n2}, and the schedule then wiped n0, the tiebreaker.
// So the fuzzer wipes only while the surviving voters stay a writable set; otherwise the step is
// a plain crash and restart (the count of down nodes is checked separately, mayTakeDown).
// A wipe also loses a replica's data for good: an acknowledged write survives a minority of its
// replica set losing theirs, not more (`tri fuzz --seed 1212 --nodes 5` run 1 wiped two of agent-1's
// three replicas, the only two that held a write, and failed "lost-write"). So a run wipes at most a
// minority of any replica set in play (wipeKeepsReplicaData); a further wipe is a plain crash.
import { placementOf } from '../placement/index.js';
import { placementKeyOf } from '../placement/replica-scope.js';
import { countedVerdict } from '../quorum/rules.js';
import { configTiebreaker, type VoterConfig } from '../quorum/voter-config.js';
import { sameIncarnation } from '../quorum/voter-identity.js';
import type { SimCluster } from '../sim/cluster-sim.js';

/**
 * True when, after wiping node `target`, every configuration in play keeps a writable set of
 * voters whose data directory is the one their entry admitted. In play: the highest committed
 * configuration any node holds (down nodes included: they restart with it) and any proposal
 * pending for the epoch after it (it may have been chosen already).
 */
export function wipeKeepsQuorum(c: SimCluster, target: number): boolean {
  const inPlay = configsInPlay(c);
  const index = new Map(c.nodes.map((node, i) => [node.name, i]));
  const survives = (name: string, listed: string | undefined): boolean => {
    const i = index.get(name);
    return i !== undefined && i !== target && sameIncarnation(listed, c.nodeId(i));
  };
  return inPlay.every((config) => {
    const alive = new Set(config.voters.filter((v) => survives(v.name, v.nodeId)).map((v) => v.name));
    const tb = configTiebreaker(config);
    return countedVerdict(config.voters.length, alive.size, tb, tb !== undefined && alive.has(tb)).writable;
  });
}

/**
 * True when wiping node `target` leaves every replica set in play with a majority of members whose
 * data directory was never wiped in this run. In play: the sets of `keys` and of every document a
 * running node holds, on every node's committed or proposed configuration, and the previous sets of
 * moves not complete. `wiped`: names wiped so far; a wiped member counts as lost for the rest of the
 * run, even once it caught up again (conservative).
 */
export function wipeKeepsReplicaData(c: SimCluster, target: number, wiped: ReadonlySet<string>, keys: readonly string[]): boolean {
  const name = c.node(target).name;
  const minority = (set: readonly string[]) => !set.includes(name) || 2 * set.filter((n) => n === name || wiped.has(n)).length < set.length;
  const all = new Set(keys);
  for (const i of c.live()) {
    const view = c.node(i).memoryService.replicas.view;
    for (const id of c.node(i).memoryService.docs.ids()) {
      const key = placementKeyOf(id);
      if (key === undefined) continue;
      all.add(key);
      if (!view.previousSets(id).every((p) => minority(p.replicas))) return false;
    }
  }
  const configs = new Set<VoterConfig>();
  for (const node of c.nodes) for (const config of [node.gate.voterConfig(), node.gate.pending()]) if (config && config.epoch > 0) configs.add(config);
  return [...configs].every((config) => {
    const placement = placementOf(config);
    return [...all].every((key) => minority(placement.replicas(key)));
  });
}

/** The highest committed configuration any node holds (down nodes included: they restart with it) and any proposal pending after it. */
function configsInPlay(c: SimCluster): VoterConfig[] {
  const gates = c.nodes.map((node) => node.gate);
  const top = Math.max(0, ...gates.map((g) => g.voterConfig().epoch));
  const inPlay: VoterConfig[] = [];
  for (const g of gates) {
    if (g.voterConfig().epoch === top) inPlay.push(g.voterConfig());
    const p = g.pending();
    if (p && p.epoch === top + 1) inPlay.push(p);
  }
  return inPlay;
}
