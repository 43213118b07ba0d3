// Convergence under replica sets, for the fuzzer and simulator tests: after quiescence the nodes
// holding each document are exactly its replica set (no strays left, none missing) and hold
// equal content. With no more voters than the replication factor every node holds every document,
// and this is the whole-node digest comparison it replaces.
import type { SimCluster } from '../sim/cluster-sim.js';

/**
 * Why the live nodes have not converged, or undefined when they have. `placementOnly`: only who
 * holds what (every move done), not whether the holders' contents are equal yet.
 */
export function replicaDivergence(c: SimCluster, nodes: number[] = c.live(), placementOnly = false): string | undefined {
  if (nodes.length === 0) return undefined;
  const scopes = nodes.map((i) => c.node(i).memoryService.replicas.view.current());
  const epoch = scopes[0]!.epoch;
  const other = scopes.findIndex((s) => s.epoch !== epoch);
  if (other >= 0) return `n${nodes[0]} is on configuration ${epoch}, n${nodes[other]} on ${scopes[other]!.epoch}`;
  const scope = scopes[0]!;
  const byName = new Map(nodes.map((i) => [c.node(i).name, i]));
  const ids = new Set<string>();
  for (const i of nodes) for (const id of c.node(i).memoryService.docs.ids()) ids.add(id);
  for (const id of ids) {
    const set = scope.replicasOf(id);
    const expected = set ? set.filter((n) => byName.has(n)).map((n) => byName.get(n)!) : nodes;
    const holders = nodes.filter((i) => c.node(i).memoryService.docs.has(id));
    const strays = holders.filter((i) => !expected.includes(i));
    if (strays.length > 0) return `${id} is still held by n${strays.join(', n')}, not in its replica set ${set?.join(', ') ?? '(all)'}`;
    const missing = expected.filter((i) => !holders.includes(i));
    if (missing.length > 0) return `${id} is missing on n${missing.join(', n')} of its replica set ${set?.join(', ') ?? '(all)'}`;
    if (placementOnly) continue;
    const digests = new Set(holders.map((i) => Buffer.from(c.node(i).memoryService.docs.digest(id)).toString('hex')));
    if (digests.size > 1) return `${id} differs between its holders n${holders.join(', n')}`;
  }
  return undefined;
}

/** Whether node `i` is one of the replicas of `agent` (every node, without replica sets). */
export function holdsAgent(c: SimCluster, i: number, agent: string): boolean {
  return c.node(i).memoryService.replicas.view.current().isReplica(`agent/${agent}`);
}
