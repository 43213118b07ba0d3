// How a tool call that cannot be served is answered: an MCP tool error (isError) whose text says
// why and what to do, so the model or person behind the host can act on it. Errors from the node
// keep their class name across RPC (src/rpc/remote-error.ts), which is what is matched here.
import type { NodeClient } from '../client/node-client.js';
import { isNodeStatus } from '../client/node-client.js';
import { METHODS } from '../rpc/methods.js';

export interface ToolResult {
  [key: string]: unknown;
  content: Array<{ type: 'text'; text: string }>;
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
}

export function toolError(text: string): ToolResult {
  return { content: [{ type: 'text', text }], isError: true };
}

/** A tool's result as the reference memory server gives it: the JSON as text, and structured. */
export function toolResult(structured: Record<string, unknown>, text = JSON.stringify(structured, null, 2)): ToolResult {
  return { content: [{ type: 'text', text }], structuredContent: structured };
}

/** Runs a tool body; any failure becomes a tool error that explains itself. */
export async function guarded(at: string, client: () => Promise<NodeClient>, body: () => Promise<ToolResult>): Promise<ToolResult> {
  try {
    return await body();
  } catch (err) {
    return toolError(await explain(err as Error, at, client));
  }
}

async function explain(err: Error, at: string, client: () => Promise<NodeClient>): Promise<string> {
  const msg = err.message;
  switch (err.name) {
    case 'QuorumError': {
      let counts = '';
      try {
        const s = await (await client()).call(METHODS.status, null, isNodeStatus);
        if (s.quorum) counts = ` ${s.quorum.reachable ?? '?'} of ${s.quorum.voters ?? '?'} voters are reachable from node ${at};`;
      } catch {
        // the counts are a courtesy; the error stands without them
      }
      return `No quorum, nothing was written:${counts} ${msg} Retry once the cluster heals, or start tri mcp against a node on the majority side (cluster_status shows each node's view).`;
    }
    case 'WriteTimeoutError':
      return `Stored on node ${at} but not yet acknowledged by a majority: ${msg} Do not repeat the write; it replicates when the voters are reachable (recall or read_graph show it).`;
    case 'UnknownAgentTypeError':
      return `Unknown agent type: ${msg} Use a type some node registered (built-in: echo, wordcount, sha256, sleep), or start a node with --agents MODULE that defines it.`;
    case 'ConfigError':
    case 'UsageError':
      return `Bad arguments: ${msg}`;
    case 'NotFoundError':
      return `Not found: ${msg}`;
    case 'TransportError':
    case 'TimeoutError':
      return `Cannot reach the node at ${at}: ${msg}${/running/.test(msg) ? '' : '. Is it running, and is that its RPC port (default 10000)?'} If this was a write, it may or may not have been applied: check with recall or read_graph before repeating it.`;
    default:
      return `${err.name || 'Error'}: ${msg}`;
  }
}
