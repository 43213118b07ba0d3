// The node's part of /status: identity, quorum (voters, learners, configuration), tasks, memory,
// gossip counters, and the fields components added (ClusterNode.addStatus).
import type { Swim } from '../../gossip/swim.js';
import type { MemoryService } from '../memory/memory-service.js';
import type { QuorumGate } from '../quorum/quorum-gate.js';

/** The parts of a node its status reads (a ClusterNode). */
export interface StatusSource {
  gate: QuorumGate;
  swim: Swim;
  memoryService: MemoryService;
  options: { nodeId: string };
  world: { packets: { address: string } };
  tasks: { counts(): Record<string, number> };
}

export function nodeStatus(node: StatusSource, fields: ReadonlyMap<string, () => unknown>): Record<string, unknown> {
  const gate = node.gate;
  const q = gate.verdict();
  const held = node.memoryService.replicas.status();
  return {
    nodeId: node.options.nodeId,
    incarnation: node.swim.incarnation(),
    address: node.world.packets.address,
    quorum: {
      writable: q.writable,
      reachable: q.reachable,
      voters: q.total,
      tiebreaker: q.tiebreaker ?? null,
      removed: gate.removedMembers(),
      // Members not (yet) on the voter configuration: they replicate, but do not vote.
      learners: gate.learners(),
      // The voter configuration (src/quorum/voter-config.ts) and a change being agreed, if any.
      configuration: gate.voterConfig().epoch,
      pendingConfiguration: gate.pending()?.epoch ?? null,
      // Each voter entry's node id (the data directory it admitted; voter-identity.ts), and the
      // voters whose member now runs another one (a wiped node waiting to be replaced).
      voterIds: Object.fromEntries(gate.voterConfig().voters.map((v) => [v.name, v.nodeId ?? null])),
      staleVoters: [...gate.staleVoters()].sort(),
      reason: q.reason,
    },
    tasks: node.tasks.counts(),
    memory: {
      ...node.memoryService.digest(),
      agents: node.memoryService.agentIds().length,
      // This node's share under replica sets (src/memory/replica-sets.ts).
      documentsHeld: held.documentsHeld,
      bytesHeld: held.bytesHeld,
      documentsMoving: held.documentsMoving,
      sync: node.memoryService.engine.stats(),
    },
    gossip: node.swim.stats(),
    ...Object.fromEntries([...fields].map(([k, fn]) => [k, fn()])),
  };
}
