// Shared by the quorum simulator tests: the split-brain check in the gates' own terms (stricter
// than the fuzzer's, which counts only voters that would acknowledge).
import type { SimCluster } from '../../../src/sim/cluster-sim.js';

/** Two running nodes that call themselves writable and count disjoint voter groups, described; '' if none. */
export function disjointWritable(c: SimCluster): string {
  const groups = c.nodes.filter((n, i) => !c.isDown(i) && n.gate.verdict().writable).map((n) => ({ name: n.name, group: [...n.gate.reachableVoters()].sort() }));
  for (const a of groups) {
    for (const b of groups) {
      if (a.group.some((x) => b.group.includes(x))) continue;
      return `${a.name} {${a.group.join(',')}} / ${b.name} {${b.group.join(',')}} at ${Math.round(c.now())} ms\n` + c.nodes.map((n) => `  ${n.name} ${n.state} ${JSON.stringify(n.gate.voterConfig())}: ${n.gate.verdict().reason}`).join('\n');
    }
  }
  return '';
}
