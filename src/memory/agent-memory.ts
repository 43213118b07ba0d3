// The embedding API for one agent's memory (DESIGN.md "Library API"): reads are local and
// synchronous; writes pass the quorum gate first (QuorumError, nothing applied, on a read-only
// node) and resolve once a majority of voters stored them (WriteTimeoutError otherwise).
import type { AgentMemoryDoc, Episode, Json, NewEpisode } from '../../crdt/index.js';
import type { RecallHit, RecallQuery } from '../recall/recall-query.js';

export interface AgentMemoryWriter {
  /** Runs `op` if this node is writable and waits for a majority to acknowledge what it wrote. */
  write<T>(agentId: string, op: (doc: AgentMemoryDoc) => T): Promise<T>;
  /** The agent's document if it exists (an unknown agent reads as empty and is not created). */
  peek(agentId: string): AgentMemoryDoc | undefined;
  /** Calls `cb` after every change to the agent's memory, local or replicated. */
  subscribe(agentId: string, cb: () => void): () => void;
  /** Ranked episodes matching the query, from the node's recall index. */
  recall(agentId: string, query: RecallQuery): RecallHit[];
}

export class AgentMemory {
  constructor(
    readonly agentId: string,
    private readonly writer: AgentMemoryWriter,
    private readonly now: () => number,
  ) {}

  addEpisode(ep: NewEpisode): Promise<string> {
    return this.writer.write(this.agentId, (d) => d.addEpisode(ep, { now: Math.round(this.now()) }));
  }
  appendNote(id: string, text: string): Promise<void> {
    return this.writer.write(this.agentId, (d) => d.appendNote(id, text));
  }
  increment(id: string, name: string, by = 1): Promise<void> {
    return this.writer.write(this.agentId, (d) => d.increment(id, name, by));
  }
  tag(id: string, tag: string): Promise<void> {
    return this.writer.write(this.agentId, (d) => d.tag(id, tag));
  }
  untag(id: string, tag: string): Promise<void> {
    return this.writer.write(this.agentId, (d) => d.untag(id, tag));
  }
  set(id: string, field: string, value: Json): Promise<void> {
    return this.writer.write(this.agentId, (d) => d.set(id, field, value));
  }
  get(id: string): Episode | undefined {
    return this.writer.peek(this.agentId)?.get(id);
  }
  list(): Episode[] {
    return this.writer.peek(this.agentId)?.list() ?? [];
  }
  /** Ranked episodes matching text and filters (bm25 over task, outcome and notes), from the node's local index. */
  recall(query: RecallQuery = {}): RecallHit[] {
    return this.writer.recall(this.agentId, query);
  }
  /** Called after every change, local or replicated; returns an unsubscribe function. */
  onChange(cb: () => void): () => void {
    return this.writer.subscribe(this.agentId, cb);
  }
}
