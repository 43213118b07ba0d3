// Embedding replicated agent memory in your own program: three nodes in one process on loopback,
// writes through different nodes, semantic merges, and a graceful stop.
// Run after `npm run build`: node examples/embed-memory.mjs
import { startNode, generateKey } from 'trinity-cluster';

const key = generateKey(); // every node of a cluster shares this key
const hosts = ['127.0.6.1', '127.0.6.2', '127.0.6.3'];
const nodes = [];
for (const [i, bind] of hosts.entries()) {
  nodes.push(await startNode({ name: `node-${i + 1}`, bind, key, join: i === 0 ? [] : [`${hosts[0]}:9999`], httpPort: 0, profile: 'local', logger: quiet() }));
}
await until(() => nodes.every((n) => n.members().filter((m) => m.state === 'ACTIVE').length === 3));
console.log('members:', nodes[0].members().map((m) => `${m.name}=${m.state}`).join(' '));

// A write resolves once a majority of the nodes stored it on disk.
const id = await nodes[0].memory('planner').addEpisode({ task: 'plan the trip', outcome: 'ok', note: 'draft', tags: ['travel'] });
await until(() => nodes[2].memory('planner').get(id));

// Concurrent edits through two different nodes: notes and counters merge, nothing is lost.
await Promise.all([
  nodes[1].memory('planner').appendNote(id, ' +hotel'),
  nodes[2].memory('planner').appendNote(id, ' +train'),
  nodes[1].memory('planner').increment(id, 'revisions', 1),
  nodes[2].memory('planner').increment(id, 'revisions', 1),
]);
await until(() => nodes.every((n) => n.memory('planner').get(id)?.counters.revisions === 2));
const ep = nodes[0].memory('planner').get(id);
console.log('notes:', JSON.stringify(ep.notes), 'revisions:', ep.counters.revisions, 'tags:', ep.tags.join(','));

for (const n of nodes) await n.stop(200);
console.log('stopped');

async function until(check, ms = 15000) {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for the cluster; members seen: ${nodes.map((n) => n.members().map((m) => `${m.name}=${m.state}`).join(' ')).join(' / ')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function quiet() {
  const l = { debug() {}, info() {}, warn() {}, error() {}, child: () => l };
  return l;
}
