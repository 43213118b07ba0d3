// The node side of `tri mcp`: RPC methods for the knowledge graph (one replicated document,
// crdt/knowledge-graph.ts, written through the quorum path), the agent list and a status
// summary. Registered by start-node beside the other client methods.
import { GRAPH_DOC, KnowledgeGraphDoc } from '../../crdt/knowledge-graph.js';
import { ConfigError } from '../errors.js';
import type { ClusterNode } from '../node/cluster-node.js';
import { jsonObject, toJsonPayload } from '../rpc/json.js';
import { METHODS } from '../rpc/methods.js';
import * as args from './graph-args.js';
import { formatBytes, MAX_GRAPH_CALL_BYTES } from '../limits.js';


export type GraphTool = 'create_entities' | 'create_relations' | 'add_observations' | 'delete_entities' | 'delete_observations' | 'delete_relations' | 'read_graph' | 'search_nodes' | 'open_nodes';

export const GRAPH_TOOLS: readonly GraphTool[] = ['create_entities', 'create_relations', 'add_observations', 'delete_entities', 'delete_observations', 'delete_relations', 'read_graph', 'search_nodes', 'open_nodes'];

/** One graph tool call on a node: reads are local, writes need quorum. Results are the reference server's. */
export async function callGraph(node: ClusterNode, graph: KnowledgeGraphDoc, tool: string, a: Record<string, unknown>): Promise<unknown> {
  const write = <T>(fn: () => T): Promise<T> => node.memoryService.writeQuorum(fn);
  switch (tool) {
    case 'create_entities': {
      const e = args.entities(a.entities);
      return { entities: await write(() => graph.createEntities(e)) };
    }
    case 'create_relations': {
      const r = args.relations(a.relations);
      return { relations: await write(() => graph.createRelations(r)) };
    }
    case 'add_observations': {
      const o = args.observations(a.observations);
      return { results: await write(() => graph.addObservations(o)) };
    }
    case 'delete_entities': {
      const n = args.names(a.entityNames, 'entityNames');
      await write(() => graph.deleteEntities(n));
      return { success: true, message: 'Entities deleted successfully' };
    }
    case 'delete_observations': {
      const d = args.deletions(a.deletions);
      await write(() => graph.deleteObservations(d));
      return { success: true, message: 'Observations deleted successfully' };
    }
    case 'delete_relations': {
      const r = args.relations(a.relations);
      await write(() => graph.deleteRelations(r));
      return { success: true, message: 'Relations deleted successfully' };
    }
    case 'read_graph':
      return graph.readGraph();
    case 'search_nodes':
      return graph.searchNodes(args.query(a.query));
    case 'open_nodes':
      return graph.openNodes(args.names(a.names, 'names'));
    default:
      throw new ConfigError(`unknown graph tool "${tool}": use one of ${GRAPH_TOOLS.join(', ')}`);
  }
}

export function registerMcpNodeMethods(node: ClusterNode): void {
  let graph: KnowledgeGraphDoc | undefined;
  const theGraph = (): KnowledgeGraphDoc => (graph ??= new KnowledgeGraphDoc(node.memoryService.docs.doc(GRAPH_DOC)));
  node.rpc.handle(METHODS.graphCall, 'client', async (payload) => {
    if (payload.byteLength > MAX_GRAPH_CALL_BYTES) {
      throw new ConfigError(`a graph call carries at most ${formatBytes(MAX_GRAPH_CALL_BYTES)} of arguments (this one: ${formatBytes(payload.byteLength)}); split it into smaller calls`);
    }
    const a = jsonObject(payload, 'graph call');
    if (a === null || typeof a !== 'object' || typeof a.tool !== 'string') throw new ConfigError('a graph call is {tool, args}');
    const toolArgs = a.args ?? {};
    if (typeof toolArgs !== 'object' || toolArgs === null || Array.isArray(toolArgs)) throw new ConfigError('graph tool arguments must be an object');
    return toJsonPayload(await callGraph(node, theGraph(), a.tool, toolArgs as Record<string, unknown>));
  });
  node.rpc.handle(METHODS.memoryAgents, 'client', () =>
    toJsonPayload(node.memoryService.agentIds().map((id) => ({ agent: id, episodes: node.memoryService.peek(id)?.list().length ?? 0 }))),
  );
}
