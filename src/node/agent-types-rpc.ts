// Which agent types the live members run, so `tri task submit` can refuse a type nobody has
// (exit 2) before anything is written, instead of recording a task that can only fail and an
// episode about it. Each member answers for itself; the node asked gathers the answers (1.5 s per
// member) and says which members did not answer, since one of those might have the type.
import { fromJsonPayload, toJsonPayload } from '../rpc/json.js';
import { formatAddress } from '../transport/address.js';
import type { ClusterNode } from './cluster-node.js';
import { METHODS } from '../rpc/methods.js';

export const AGENT_TYPES_METHOD = METHODS.agentTypes;
export const CLUSTER_AGENT_TYPES_METHOD = METHODS.clusterAgentTypes;
const ASK_TIMEOUT_MS = 1500;

export interface ClusterAgentTypes {
  /** Every type at least one live member that answered has, sorted. */
  types: string[];
  /** Live members that did not answer in time (they may have other types). */
  unanswered: string[];
}

export function registerAgentTypeMethods(node: ClusterNode): void {
  node.rpc.handle(AGENT_TYPES_METHOD, 'member', () => toJsonPayload(node.tasks.registry.types()));
  node.rpc.handle(CLUSTER_AGENT_TYPES_METHOD, 'client', async () => {
    const peers = node.members().filter((m) => m.name !== node.name && m.swimState === 'alive' && (m.state === 'ACTIVE' || m.state === 'DEGRADED') && m.rpcPort > 0);
    const answers = await Promise.all(
      peers.map((m) =>
        node.rpc
          .call(formatAddress(m.address, m.rpcPort), AGENT_TYPES_METHOD, toJsonPayload(null), ASK_TIMEOUT_MS)
          .then((r) => fromJsonPayload(r, 'agent types'))
          .then((t) => (Array.isArray(t) ? t.filter((x): x is string => typeof x === 'string') : undefined))
          .catch(() => undefined),
      ),
    );
    const types = new Set(node.tasks.registry.types());
    for (const a of answers) for (const t of a ?? []) types.add(t);
    const reply: ClusterAgentTypes = { types: [...types].sort(), unanswered: peers.filter((_, i) => answers[i] === undefined).map((m) => m.name) };
    return toJsonPayload(reply);
  });
}
