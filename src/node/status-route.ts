// GET /status: the node's own view as JSON, for scripts, tests and the dashboard.
import type { ClusterNode } from './cluster-node.js';
import type { Route } from './http-server.js';

export function statusRoute(node: ClusterNode): Route {
  return () => ({
    type: 'application/json',
    // The dashboard of any member reads every member's /status to draw who reaches whom.
    headers: { 'access-control-allow-origin': '*' },
    body: JSON.stringify({ name: node.name, state: node.state, ...node.statusExtras(), members: node.members() }),
  });
}
