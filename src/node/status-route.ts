// GET /status: the node's own view as JSON, for scripts, tests and the dashboard; the same
// document answers `tri status` over RPC (ops-rpc.ts). GET /health: a status code that follows the
// node's state, for load balancers and probes (as etcd's /health and Consul's health endpoints).
import type { ClusterNode } from './cluster-node.js';
import type { Route } from './http-server.js';
import type { Keyring } from '../security/index.js';
import { tokenAccess, withoutFingerprints } from './status-access.js';

/** What /status and the cluster.status RPC answer. */
export function nodeStatus(node: ClusterNode): Record<string, unknown> {
  // The voters by name, so a client can list voters it does not see as members (unreachable ones).
  const voters = node.gate.voterConfig().voters.map((v) => v.name);
  return { name: node.name, state: node.state, ...node.statusExtras(), voters, members: node.members() };
}

/** GET /status; key fingerprints only for a request with a client token the keyring verifies (status-access.ts). */
export function statusRoute(node: ClusterNode, keyring: Keyring | undefined): Route {
  return (req) => {
    const access = tokenAccess(req, keyring);
    if (access.kind === 'refused') return { status: 401, type: 'application/json', body: JSON.stringify({ error: `token refused: ${access.reason}` }) + '\n' };
    const status = nodeStatus(node);
    // No CORS header: no other web page may read it from a browser (the dashboard uses /cluster).
    return { type: 'application/json', body: JSON.stringify(access.kind === 'ok' ? status : withoutFingerprints(status)) };
  };
}

/** 200 when the node is ACTIVE and writable; 503 otherwise (read-only, syncing, leaving), with why. */
export function healthRoute(node: ClusterNode): Route {
  return () => {
    const q = node.gate.verdict();
    const healthy = node.state === 'ACTIVE' && q.writable;
    return {
      status: healthy ? 200 : 503,
      type: 'application/json',
      body: JSON.stringify({ name: node.name, state: node.state, writable: q.writable, healthy, reason: healthy ? null : q.reason ?? `state ${node.state}` }) + '\n',
    };
  };
}
