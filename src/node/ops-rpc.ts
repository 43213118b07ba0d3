// Operator RPC methods beside the member table: `cluster.status` answers `tri status` with the
// same document as GET /status, so scripts get it over the authenticated RPC port too.
import { METHODS } from '../rpc/methods.js';
import { toJsonPayload } from '../rpc/json.js';
import type { ClusterNode } from './cluster-node.js';
import { nodeStatus } from './status-route.js';

export function registerOpsMethods(node: ClusterNode): void {
  node.rpc.handle(METHODS.status, 'client', () => toJsonPayload(nodeStatus(node)));
}
