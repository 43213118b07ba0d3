// The episode and cluster tools of `tri mcp`: remember, recall, annotate, list_agents,
// submit_task, task_status, cluster_status. Each is one or two RPCs to the node the server fronts.
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { NodeClient } from '../client/node-client.js';
import { ConfigError, TriError, UnknownAgentTypeError } from '../errors.js';
import { ANNOTATE_OPS } from '../memory/annotate.js';
import { READ_LEVELS, WRITE_LEVELS } from '../memory/consistency.js';
import { EMBEDDING_FIELD, parseTime, type RecallQuery } from '../recall/recall-query.js';
import { METHODS } from '../rpc/methods.js';
import { STRATEGIES } from '../tasks/routing.js';
import type { Json } from '../../crdt/index.js';
import { guarded, toolResult } from './tool-errors.js';
import { isAgentList, isEpisode } from '../client/reply-shape.js';
import { isNodeStatus } from '../client/node-client.js';

const Time = z.union([z.number(), z.string()]).describe('ISO time, milliseconds since the epoch, or a span back from now such as "2h" or "7d"');
const time = (v: string | number | undefined): number | undefined => (v === undefined ? undefined : typeof v === 'number' ? v : parseTime(v));

export function registerMemoryTools(server: McpServer, at: string, client: () => Promise<NodeClient>): void {
  const run = (body: (c: NodeClient) => Promise<Record<string, unknown>>) => guarded(at, client, async () => toolResult(await body(await client())));

  server.registerTool(
    'remember',
    {
      title: 'Remember',
      description: "Record an episode (what was done, how it went, notes, tags) in an agent's replicated memory. Needs quorum.",
      inputSchema: {
        agent: z.string().describe('agent id (letters, digits, . _ : @ -)'),
        task: z.string().describe('what the agent did'),
        outcome: z.string().describe('how it went, e.g. ok, failed'),
        note: z.string().optional().describe('free-text notes'),
        tags: z.array(z.string()).optional(),
        embedding: z.array(z.number()).optional().describe('an embedding of the episode (stored in its "embedding" field) for recall by vector'),
        consistency: z.enum(WRITE_LEVELS).optional().describe("majority (default: a majority of the agent's replica set stored it) or all (every replica)"),
      },
    },
    (a) =>
      run(async (c) => ({
        episode: await c.addEpisode({ agent: a.agent, task: a.task, outcome: a.outcome, note: a.note, tags: a.tags, fields: a.embedding ? { [EMBEDDING_FIELD]: a.embedding } : undefined, ...(a.consistency ? { consistency: a.consistency } : {}) }),
      })),
  );
  server.registerTool(
    'recall',
    {
      title: 'Recall',
      description: "Search an agent's episodes (or every agent's): words ranked by bm25 over task, outcome and notes, and/or nearest by embedding vector; newest first with neither; filters on tags (all must match), outcome, fields and time.",
      inputSchema: {
        agent: z.string().optional().describe('agent id; leave out with all_agents: true to search every agent'),
        all_agents: z.boolean().optional(),
        text: z.string().optional(),
        tags: z.array(z.string()).optional(),
        outcome: z.string().optional(),
        fields: z.record(z.string(), z.any()).optional().describe('field name -> value it must hold'),
        since: Time.optional(),
        until: Time.optional(),
        vector: z.array(z.number()).optional().describe('an embedding: nearest episodes by cosine, fused with the text rank when text is given'),
        limit: z.number().int().min(1).max(1000).optional(),
        consistency: z.enum(READ_LEVELS).optional().describe("local (default: what the node holds; a node holding no copy merges from a majority of the agent's replica set first) or majority (merges from a majority of the replica set first, on a replica too: sees every acknowledged write); one agent only"),
      },
    },
    (a) =>
      run(async (c) => {
        if ((a.agent === undefined) === (a.all_agents !== true)) throw new ConfigError('give either agent or all_agents: true');
        if (a.agent === undefined && a.consistency !== undefined) throw new ConfigError('consistency needs one agent: a search of every agent reads the local index');
        const q: RecallQuery = { text: a.text, tags: a.tags, outcome: a.outcome, fields: a.fields as Record<string, Json> | undefined, since: time(a.since), until: time(a.until), vector: a.vector, limit: a.limit };
        return { hits: await c.recall(a.agent, q, a.consistency) };
      }),
  );
  server.registerTool(
    'annotate',
    {
      title: 'Annotate',
      description: 'Edit an episode: op "note" appends text, "tag"/"untag" a tag, "set" a field to a JSON value, "incr" a counter by "by" (default 1). Needs quorum.',
      inputSchema: {
        agent: z.string(),
        id: z.string().describe('episode id (from remember or recall)'),
        op: z.enum(ANNOTATE_OPS),
        text: z.string().optional(),
        tag: z.string().optional(),
        field: z.string().optional(),
        value: z.any().optional(),
        counter: z.string().optional(),
        by: z.number().optional(),
        consistency: z.enum(WRITE_LEVELS).optional().describe("majority (default: a majority of the agent's replica set stored it) or all (every replica)"),
      },
    },
    // The arguments go to the node as they are: it checks the edit and the consistency level again (memory-query-rpc.ts).
    (a) => run(async (c) => ({ episode: await c.call(METHODS.memoryAnnotate, a, isEpisode) })),
  );
  server.registerTool('list_agents', { title: 'List Agents', description: 'Every agent with memory on the cluster, and its episode count.', inputSchema: {} }, () =>
    run(async (c) => ({ agents: await c.call(METHODS.memoryAgents, null, isAgentList) })),
  );
  server.registerTool(
    'submit_task',
    {
      title: 'Submit Task',
      description: 'Run a task on the cluster (agent type and JSON input); waits up to wait_ms (default 10000) for it to finish. Needs quorum.',
      inputSchema: {
        type: z.string().describe('agent type, e.g. echo, wordcount, sha256, sleep'),
        input: z.any().optional(),
        agent: z.string().optional().describe("whose memory records the task's episode (default: the type)"),
        strategy: z.enum(STRATEGIES).optional(),
        wait_ms: z.number().int().min(0).max(600_000).optional(),
      },
    },
    (a) =>
      run(async (c) => {
        let task = await c.submitTask({ type: a.type, input: (a.input ?? null) as Json, agent: a.agent, strategy: a.strategy });
        const wait = a.wait_ms ?? 10_000;
        if (wait > 0) task = await c.waitForTask(task.id, wait);
        if (task.status === 'failed') {
          const why = `task ${task.id} failed after ${task.attempts} attempt(s): ${task.error ?? 'no reason recorded'}`;
          throw /unknown agent type/.test(task.error ?? '') ? new UnknownAgentTypeError(why) : new TriError(why);
        }
        return { task };
      }),
  );
  server.registerTool('task_status', { title: 'Task Status', description: 'A task by id: status, node, attempts, result or error.', inputSchema: { id: z.string() } }, (a) =>
    run(async (c) => ({ task: await c.getTask(a.id) })),
  );
  server.registerTool('cluster_status', { title: 'Cluster Status', description: "This node's view: its state, quorum (reachable of total voters), members, task and memory counts.", inputSchema: {} }, () =>
    run(async (c) => c.call(METHODS.status, null, isNodeStatus)),
  );
}
