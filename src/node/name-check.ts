// A name is one node. Before a node joins, it asks its seeds whether a different node (another
// node id, from another data directory, at another address) already runs under its name and is
// alive; if so it refuses to start instead of taking that node's identity, voter slot and
// acknowledgements (a second node under one name also removed the real one from the voter set
// when it left). A restart of the same node (same data directory, so same node id) passes, and
// so does a node whose namesake is suspected, dead or left.
import { decodeMeta } from './meta.js';
import { ConfigError } from '../errors.js';
import { jsonObject, toJsonPayload } from '../rpc/json.js';
import type { Logger } from '../runtime/types.js';
import type { ClusterNode } from './cluster-node.js';
import { METHODS } from '../rpc/methods.js';

export const NAME_CHECK_METHOD = METHODS.nameCheck;
const ASK_TIMEOUT_MS = 2000;

interface Ask {
  name: string;
  nodeId: string;
  address: string;
}
interface Answer {
  conflict: boolean;
  address?: string;
}

/** Answers seeds' questions: is `name` a different live node here? */
export function registerNameCheck(node: ClusterNode): void {
  node.rpc.handle(NAME_CHECK_METHOD, 'member', (payload) => {
    const q = jsonObject(payload, 'name check');
    const m = node.swim.peek(String(q.name));
    let nodeId: string | undefined;
    try {
      nodeId = m ? decodeMeta(m.meta).nodeId : undefined;
    } catch {
      nodeId = undefined;
    }
    const conflict = m !== undefined && m.state === 'alive' && m.address !== q.address && nodeId !== undefined && nodeId !== q.nodeId;
    return toJsonPayload(conflict ? { conflict, address: m.address } : { conflict: false });
  });
}

/** Asks each seed (those that answer in time); throws ConfigError when one knows another live node by this name. */
export async function checkNameFree(node: ClusterNode, seeds: string[], self: Ask, logger: Logger): Promise<void> {
  const answers = await Promise.all(
    seeds.map((seed) =>
      node.rpc
        .call(seed, NAME_CHECK_METHOD, toJsonPayload(self), ASK_TIMEOUT_MS)
        .then((r): Answer => {
          const a = jsonObject(r, 'name check answer');
          return { conflict: a.conflict === true, address: typeof a.address === 'string' ? a.address : undefined };
        })
        .catch(() => undefined), // a seed that is down, or of an older version: the join decides
    ),
  );
  const clash = answers.find((a) => a?.conflict);
  if (!clash) return;
  const msg =
    `another node named "${self.name}" is already a live member at ${clash.address ?? 'another address'} (another data directory): ` +
    `a name is one node. Give this node its own --name, or stop that node first (and reuse its --data directory to replace it)`;
  logger.error({ name: self.name, existing: clash.address }, msg);
  throw new ConfigError(msg);
}
