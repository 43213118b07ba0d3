// GET /cluster: this node's /status and every live member's, fetched by the node itself, for the
// dashboard. Aggregating on the server side means /status needs no CORS (no other web page can
// read it from a browser) and the dashboard works through one forwarded port. Answers are cached
// for CACHE_MS so a client polling fast costs the members no more than one poll per interval.
import http from 'node:http';
import type { ClusterNode } from './cluster-node.js';
import type { Route } from './http-server.js';
import { nodeStatus } from './status-route.js';
import { withoutFingerprints } from './status-access.js';

const PEER_TIMEOUT_MS = 800;
const CACHE_MS = 500;
/** Bound on one answer's size per member, and on members asked (the dashboard draws a ring). */
const MAX_BODY = 4 * 1024 * 1024;
const MAX_PEERS = 128;

export function clusterViewRoute(node: ClusterNode): Route {
  let cached: { at: number; body: Promise<string> } | undefined;
  return () => {
    const now = Date.now();
    if (!cached || now - cached.at > CACHE_MS) cached = { at: now, body: build(node) };
    return cached.body.then((body) => ({ type: 'application/json', body }));
  };
}

async function build(node: ClusterNode): Promise<string> {
  const self = withoutFingerprints(nodeStatus(node)); // /cluster takes no token
  const peers = node
    .members()
    .filter((m) => m.name !== node.name && m.swimState === 'alive' && m.httpPort > 0)
    .slice(0, MAX_PEERS);
  const views = await Promise.all(peers.map((m) => getJson(`http://${m.address.includes(':') ? `[${m.address}]` : m.address}:${m.httpPort}/status`)));
  return JSON.stringify({ self, views: Object.fromEntries(peers.map((m, i) => [m.name, views[i] ?? null])) });
}

function getJson(url: string): Promise<unknown> {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: PEER_TIMEOUT_MS, agent: false }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        return resolve(null);
      }
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        body += d;
        if (body.length > MAX_BODY) req.destroy();
      });
      res.on('end', () => {
        try {
          resolve(JSON.parse(body));
        } catch {
          resolve(null);
        }
      });
      res.on('error', () => resolve(null));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(null));
  });
}
