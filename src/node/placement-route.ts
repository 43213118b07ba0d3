// GET /placement?agent=ID: where an agent's memory lives, as `tri memory placement` prints it
// (placement-rpc.ts), for the dashboard. Read-only and under the /status rules (status-access.ts):
// no token needed, a token that fails verification is refused. Without `agent` it lists the agent
// ids this node holds (for the dashboard's picker), only to a request with a verified token: which
// agents exist is for operators, as key fingerprints are.
import type { ClusterNode } from './cluster-node.js';
import type { Route, RouteResult } from './http-server.js';
import type { Keyring } from '../security/index.js';
import { AGENT_ID, placementReport } from './placement-rpc.js';
import { tokenAccess } from './status-access.js';

/** Agent ids listed at most, so the answer stays small whatever a node holds. */
export const MAX_LISTED_AGENTS = 500;
export const AGENTS_HIDDEN = 'agent ids are listed with a client token (tri token create): GET /placement?token=TOKEN or Authorization: Bearer TOKEN';

const json = (status: number, body: unknown): RouteResult => ({ status, type: 'application/json', body: JSON.stringify(body) + '\n' });

export function placementRoute(node: ClusterNode, keyring: Keyring | undefined): Route {
  return (req) => {
    const access = tokenAccess(req, keyring);
    if (access.kind === 'refused') return json(401, { error: `token refused: ${access.reason}` });
    const agent = new URL(req.url ?? '/', 'http://node').searchParams.get('agent');
    if (agent === null || agent === '') {
      if (access.kind !== 'ok') return json(200, { agents: null, agentsHidden: AGENTS_HIDDEN });
      const ids = node.memoryService.agentIds().slice().sort();
      return json(200, { agents: ids.slice(0, MAX_LISTED_AGENTS), truncated: ids.length > MAX_LISTED_AGENTS });
    }
    if (!AGENT_ID.test(agent)) return json(400, { error: `agent id is not valid: use 1-128 letters, digits, ".", "_", ":", "@" or "-"` });
    const here = { moving: node.memoryService.replicas.isMoving(agent), held: node.memoryService.peek(agent) !== undefined };
    return json(200, placementReport(agent, node.gate.voterConfig(), node.gate.pending(), here));
  };
}
