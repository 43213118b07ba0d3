// An MCP client (the official SDK's, as any MCP host uses) driving `tri mcp`: three cluster nodes
// run in this process, two `tri mcp` servers front two of them over stdio, and what one server
// remembers the other recalls; the knowledge-graph tools work as the reference memory server's.
// Run after `npm run build`: node examples/mcp-agent.mjs
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { startNode, generateKey } from 'trinity-cluster';

const tri = fileURLToPath(new URL('../dist/src/cli/tri.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'tri-mcp-example-'));
const keyFile = join(dir, 'cluster.key');
const key = generateKey();
writeFileSync(keyFile, key + '\n', { mode: 0o600 });

const hosts = ['127.0.19.40', '127.0.19.41', '127.0.19.42'];
const nodes = [];
for (const [i, bind] of hosts.entries()) {
  nodes.push(await startNode({ name: `node-${i + 1}`, bind, key, join: i === 0 ? [] : [`${hosts[0]}:9999`], httpPort: 0, profile: 'local', logger: quiet() }));
}
await until(() => nodes.every((n) => n.members().filter((m) => m.state === 'ACTIVE').length === 3));

// What an MCP host does with the README's configuration: spawn `tri mcp --at HOST --key-file FILE`.
async function connect(host) {
  const client = new Client({ name: 'example-agent', version: '1.0.0' });
  await client.connect(new StdioClientTransport({ command: process.execPath, args: [tri, 'mcp', '--at', host, '--key-file', keyFile], stderr: 'ignore' }));
  return client;
}
const first = await connect(hosts[0]);
const third = await connect(hosts[2]);
const call = async (client, name, args = {}) => {
  const r = await client.callTool({ name, arguments: args });
  if (r.isError) throw new Error(`${name}: ${r.content[0].text}`);
  return r.structuredContent;
};

console.log('tools:', (await first.listTools()).tools.map((t) => t.name).join(' '));
await call(first, 'remember', { agent: 'travel-agent', task: 'book a train to Lyon', outcome: 'ok', note: 'window seat, 08:12 departure', tags: ['trip'] });
await call(first, 'remember', { agent: 'travel-agent', task: 'book a hotel', outcome: 'ok', note: 'near the station' });
let hits = [];
await until(async () => (hits = (await call(third, 'recall', { agent: 'travel-agent', text: 'train departure' })).hits).length > 0);
console.log(`recall via ${hosts[2]}: "${hits[0].episode.task}" (${hits[0].episode.notes})`);

await call(first, 'create_entities', { entities: [{ name: 'Lyon', entityType: 'city', observations: ['trip destination'] }] });
await until(async () => (await call(third, 'open_nodes', { names: ['Lyon'] })).entities.length === 1);
await Promise.all([
  call(first, 'add_observations', { observations: [{ entityName: 'Lyon', contents: ['arrive 10:05'] }] }),
  call(third, 'add_observations', { observations: [{ entityName: 'Lyon', contents: ['museum on Tuesday'] }] }),
]);
let lyon;
await until(async () => (lyon = (await call(first, 'open_nodes', { names: ['Lyon'] })).entities[0]).observations.length === 3);
console.log('Lyon:', [...lyon.observations].sort().join(' | '));

await first.close();
await third.close();
for (const n of nodes) await n.stop(200);
rmSync(dir, { recursive: true, force: true });
console.log('stopped');

async function until(check, ms = 15000) {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out waiting for the cluster');
    await new Promise((r) => setTimeout(r, 50));
  }
}

function quiet() {
  const l = { debug() {}, info() {}, warn() {}, error() {}, child: () => l };
  return l;
}
