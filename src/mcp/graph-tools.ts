// The reference memory server's knowledge-graph tools (@modelcontextprotocol/server-memory): the
// same names, argument shapes, results and descriptions, so a host configured for it can switch
// to `tri mcp` unchanged. Each call is one RPC to the node (graph.call), where the graph is a
// replicated document (crdt/knowledge-graph.ts).
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { NodeClient } from '../client/node-client.js';
import { METHODS } from '../rpc/methods.js';
import { guarded, toolResult } from './tool-errors.js';
import { objectWith } from '../client/reply-shape.js';

const Entity = z.object({
  name: z.string().describe('The name of the entity'),
  entityType: z.string().describe('The type of the entity'),
  observations: z.array(z.string()).describe('An array of observation contents associated with the entity'),
});
const Relation = z.object({
  from: z.string().describe('The name of the entity where the relation starts'),
  to: z.string().describe('The name of the entity where the relation ends'),
  relationType: z.string().describe('The type of the relation'),
});
const GraphShape = { entities: z.array(Entity), relations: z.array(Relation) };
const Done = { success: z.boolean(), message: z.string() };

const write = { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false };
const destroy = { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false };
const read = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };

export function registerGraphTools(server: McpServer, at: string, client: () => Promise<NodeClient>): void {
  const call = (tool: string, args: Record<string, unknown>, text?: (r: Record<string, unknown>) => string) =>
    guarded(at, client, async () => {
      const r = await (await client()).call(METHODS.graphCall, { tool, args }, objectWith<Record<string, unknown>>({}));
      return toolResult(r, text ? text(r) : undefined);
    });
  // The reference answers creations with the array itself as text, and deletions with their message.
  const first = (key: string) => (r: Record<string, unknown>) => JSON.stringify(r[key], null, 2);
  const message = (r: Record<string, unknown>) => String(r.message);

  server.registerTool(
    'create_entities',
    { title: 'Create Entities', description: 'Create multiple new entities in the knowledge graph', inputSchema: { entities: z.array(Entity) }, outputSchema: { entities: z.array(Entity) }, annotations: write },
    (a) => call('create_entities', a, first('entities')),
  );
  server.registerTool(
    'create_relations',
    {
      title: 'Create Relations',
      description: 'Create multiple new relations between entities in the knowledge graph. Relations should be in active voice',
      inputSchema: { relations: z.array(Relation) },
      outputSchema: { relations: z.array(Relation) },
      annotations: write,
    },
    (a) => call('create_relations', a, first('relations')),
  );
  server.registerTool(
    'add_observations',
    {
      title: 'Add Observations',
      description: 'Add new observations to existing entities in the knowledge graph',
      inputSchema: {
        observations: z.array(
          z.object({
            entityName: z.string().describe('The name of the entity to add the observations to'),
            contents: z.array(z.string()).describe('An array of observation contents to add'),
          }),
        ),
      },
      outputSchema: { results: z.array(z.object({ entityName: z.string(), addedObservations: z.array(z.string()) })) },
      annotations: write,
    },
    (a) => call('add_observations', a, first('results')),
  );
  server.registerTool(
    'delete_entities',
    {
      title: 'Delete Entities',
      description: 'Delete multiple entities and their associated relations from the knowledge graph',
      inputSchema: { entityNames: z.array(z.string()).describe('An array of entity names to delete') },
      outputSchema: Done,
      annotations: destroy,
    },
    (a) => call('delete_entities', a, message),
  );
  server.registerTool(
    'delete_observations',
    {
      title: 'Delete Observations',
      description: 'Delete specific observations from entities in the knowledge graph',
      inputSchema: {
        deletions: z.array(
          z.object({
            entityName: z.string().describe('The name of the entity containing the observations'),
            observations: z.array(z.string()).describe('An array of observations to delete'),
          }),
        ),
      },
      outputSchema: Done,
      annotations: destroy,
    },
    (a) => call('delete_observations', a, message),
  );
  server.registerTool(
    'delete_relations',
    { title: 'Delete Relations', description: 'Delete multiple relations from the knowledge graph', inputSchema: { relations: z.array(Relation).describe('An array of relations to delete') }, outputSchema: Done, annotations: destroy },
    (a) => call('delete_relations', a, message),
  );
  server.registerTool('read_graph', { title: 'Read Graph', description: 'Read the entire knowledge graph', inputSchema: {}, outputSchema: GraphShape, annotations: read }, () => call('read_graph', {}));
  server.registerTool(
    'search_nodes',
    {
      title: 'Search Nodes',
      description: 'Search for nodes in the knowledge graph based on a query',
      inputSchema: { query: z.string().describe('The search query to match against entity names, types, and observation content') },
      outputSchema: GraphShape,
      annotations: read,
    },
    (a) => call('search_nodes', a),
  );
  server.registerTool(
    'open_nodes',
    { title: 'Open Nodes', description: 'Open specific nodes in the knowledge graph by their names', inputSchema: { names: z.array(z.string()).describe('An array of entity names to retrieve') }, outputSchema: GraphShape, annotations: read },
    (a) => call('open_nodes', a),
  );
}
