// How many members a node's SWIM table holds alive (itself included): what the simulated
// clusters poll to decide that a cluster has formed.
import type { Swim } from '../../gossip/swim.js';

export function aliveCount(swim: Pick<Swim, 'forEachMember'>): number {
  let n = 0;
  swim.forEachMember((m) => {
    if (m.state === 'alive') n++;
  });
  return n;
}
