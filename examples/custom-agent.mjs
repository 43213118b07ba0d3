// Custom agents on a cluster: nodes load a module of agent types, tasks are routed to them, and
// every finished task leaves an episode in the agent's replicated memory.
// Run after `npm run build`: node examples/custom-agent.mjs
import { fileURLToPath } from 'node:url';
import { startNode, generateKey } from 'trinity-cluster';

const agents = fileURLToPath(new URL('./agents/text-agents.mjs', import.meta.url));
const key = generateKey();
const hosts = ['127.0.7.1', '127.0.7.2', '127.0.7.3'];
const nodes = [];
for (const [i, bind] of hosts.entries()) {
  nodes.push(await startNode({ name: `worker-${i + 1}`, bind, key, agents, join: i === 0 ? [] : [`${hosts[0]}:9999`], httpPort: 0, profile: 'local', logger: quiet() }));
}
await until(() => nodes.every((n) => n.members().filter((m) => m.state === 'ACTIVE').length === 3));

// One more agent type defined in code, on one node only (tasks of that type must run there).
nodes[0].defineAgent('shout', async (input) => ({ loud: String(input.text).toUpperCase() }));

const submitted = await Promise.all([
  nodes[1].submit({ type: 'reverse', input: { text: 'trinity' }, strategy: 'round-robin' }),
  nodes[1].submit({ type: 'summarize', input: { text: 'Short one. This is the longest sentence here. Tiny.' }, strategy: 'round-robin' }),
  nodes[0].submit({ type: 'shout', input: { text: 'hello' }, strategy: 'local-first' }),
]);
for (const t of submitted) {
  await until(() => ['done', 'failed'].includes(nodes[0].tasks.get(t.id).status));
  const v = nodes[0].tasks.get(t.id);
  console.log(`${v.type}: ${v.status} on ${v.node} ->`, JSON.stringify(v.result));
}
await until(() => nodes[2].memory('reverse').list().length === 1);
console.log('episode recorded for agent "reverse":', nodes[2].memory('reverse').list()[0].outcome);

for (const n of nodes) await n.stop(200);
console.log('stopped');

async function until(check, ms = 15000) {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting for the cluster');
    await new Promise((r) => setTimeout(r, 50));
  }
}

function quiet() {
  const l = { debug() {}, info() {}, warn() {}, error() {}, child: () => l };
  return l;
}
