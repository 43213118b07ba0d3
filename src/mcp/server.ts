// `tri mcp`: an MCP server (the official TypeScript SDK) in front of one node. It holds one RPC
// client to the node and answers tools and resources with it; it keeps no state of its own, so
// any number of them (one per MCP host, over stdio or Streamable HTTP) can front the same node.
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { NodeClient } from '../client/node-client.js';
import { METHODS } from '../rpc/methods.js';
import { registerGraphTools } from './graph-tools.js';
import { registerMemoryTools } from './memory-tools.js';
import { isAgentList, objectWith } from '../client/reply-shape.js';

export const MCP_SERVER_NAME = 'trinity-cluster';

export function createMcpServer(at: string, client: () => Promise<NodeClient>, version: string): McpServer {
  const server = new McpServer({ name: MCP_SERVER_NAME, version });
  registerMemoryTools(server, at, client);
  registerGraphTools(server, at, client);
  const json = (uri: URL, value: unknown) => ({ contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify(value, null, 2) }] });
  server.registerResource(
    'agent-memory',
    new ResourceTemplate('memory://agent/{id}', {
      list: async () => {
        const agents = await (await client()).call(METHODS.memoryAgents, null, isAgentList);
        return { resources: agents.map((a) => ({ uri: `memory://agent/${encodeURIComponent(a.agent)}`, name: a.agent, description: `${a.episodes} episodes`, mimeType: 'application/json' })) };
      },
    }),
    { title: "An agent's episodes", description: "Every episode in one agent's replicated memory", mimeType: 'application/json' },
    async (uri, vars) => json(uri, await (await client()).showMemory(decodeURIComponent(String(vars.id)))),
  );
  server.registerResource('knowledge-graph', 'memory://graph', { title: 'Knowledge Graph', description: 'The full knowledge graph with all entities and relations', mimeType: 'application/json' }, async (uri) =>
    json(uri, await (await client()).call(METHODS.graphCall, { tool: 'read_graph', args: {} }, objectWith({ entities: 'array', relations: 'array' }))),
  );
  return server;
}
