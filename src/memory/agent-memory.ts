// The embedding API for one agent's memory (DESIGN.md "Library API"): reads are local and
// synchronous; writes pass the quorum gate first (QuorumError, nothing applied, on a read-only
// node) and resolve once a majority of voters stored them (WriteTimeoutError otherwise).
import type { AgentMemoryDoc, Episode, Json, NewEpisode } from '../../crdt/index.js';
import type { RecallHit, RecallQuery } from '../recall/recall-query.js';
import { assertSize, checkEpisodeSizes, MAX_NOTE_BYTES } from '../limits.js';

// Kept importable from here (it lived here); the CLI imports it from limits.ts without Yjs.
export { checkEpisodeSizes };
import type { Page } from '../paging.js';
import { episodePage, type EpisodeQuery } from './episode-page.js';
import { forgetEpisodes, memoryEpisodeIds, readPolicy, writePolicy, type RetentionPolicy } from './forget.js';
import { checkConsistency, type MemoryConsistency, type ReadConsistency, type WriteConsistency } from './consistency.js';

export type { MemoryConsistency };

export interface AgentMemoryWriter {
  /** Runs `op` if this node is writable and waits for a majority (at `all`: every replica) to acknowledge what it wrote. */
  write<T>(agentId: string, op: (doc: AgentMemoryDoc) => T, level?: WriteConsistency): Promise<T>;
  /** The agent's document if it exists (an unknown agent reads as empty and is not created). */
  peek(agentId: string): AgentMemoryDoc | undefined;
  /** Calls `cb` after every change to the agent's memory, local or replicated. */
  subscribe(agentId: string, cb: () => void): () => void;
  /** Ranked episodes matching the query, from the node's recall index. */
  recall(agentId: string, query: RecallQuery): RecallHit[];
  /** Merges the agent's memory from a majority of its replica set when this node holds no copy. */
  beforeRead?(agentId: string, level?: ReadConsistency): Promise<void>;
}

export class AgentMemory {
  constructor(
    readonly agentId: string,
    private readonly writer: AgentMemoryWriter,
    private readonly now: () => number,
    consistency?: MemoryConsistency,
  ) {
    this.consistency = checkConsistency(consistency);
  }

  /** The levels of this object's calls (consistency.ts); undefined parts are the defaults (write majority, read local). */
  readonly consistency: MemoryConsistency | undefined;

  private write<T>(op: (doc: AgentMemoryDoc) => T): Promise<T> {
    return this.writer.write(this.agentId, op, this.consistency?.write);
  }

  /**
   * On a node that is not one of this agent's replicas (replica sets smaller than the voter set),
   * pulls the memory from a majority of them, so the reads after it see every acknowledged write.
   * Resolves at once on a replica, unless the read consistency is `majority`: then a replica
   * merges from a majority of its set too. QuorumError when no majority of the set is reachable.
   */
  async refresh(): Promise<this> {
    await this.writer.beforeRead?.(this.agentId, this.consistency?.read);
    return this;
  }

  addEpisode(ep: NewEpisode): Promise<string> {
    try {
      checkEpisodeSizes(ep);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    return this.write((d) => d.addEpisode(ep, { now: Math.round(this.now()) }));
  }
  appendNote(id: string, text: string): Promise<void> {
    if (typeof text === 'string') {
      try {
        assertSize(text, MAX_NOTE_BYTES, 'the note', 'split it into several appends');
      } catch (err) {
        return Promise.reject(err as Error);
      }
    }
    return this.write((d) => d.appendNote(id, text));
  }
  increment(id: string, name: string, by = 1): Promise<void> {
    return this.write((d) => d.increment(id, name, by));
  }
  tag(id: string, tag: string): Promise<void> {
    return this.write((d) => d.tag(id, tag));
  }
  untag(id: string, tag: string): Promise<void> {
    return this.write((d) => d.untag(id, tag));
  }
  set(id: string, field: string, value: Json): Promise<void> {
    return this.write((d) => d.set(id, field, value));
  }
  get(id: string): Episode | undefined {
    return this.writer.peek(this.agentId)?.get(id);
  }
  /** Every episode, oldest first. Reads the whole memory: for long memories use page() or pages(). */
  list(): Episode[] {
    return this.writer.peek(this.agentId)?.list() ?? [];
  }
  /** Ranked episodes matching text and filters (bm25 over task, outcome and notes), from the node's local index. */
  recall(query: RecallQuery = {}): RecallHit[] {
    return this.writer.recall(this.agentId, query);
  }
  /** One page of episodes, newest first (paging.ts); pass `next` as `after` for the following page. */
  page(q: EpisodeQuery = {}): Page<Episode> {
    return episodePage(this.writer.peek(this.agentId), q);
  }
  /** Every page, one after another (each read when the previous one was consumed). */
  *pages(q: EpisodeQuery = {}): Generator<Episode[]> {
    let after = q.after;
    for (;;) {
      const p = this.page({ ...q, after });
      if (p.items.length > 0) yield p.items;
      if (p.next === undefined) return;
      after = p.next;
    }
  }
  /** Forgets one episode on every replica (a quorum write); resolves false when there is no such episode. */
  async forget(id: string): Promise<boolean> {
    if (!this.writer.peek(this.agentId)) return false;
    return (await this.write((d) => forgetEpisodes(d, [id]))) > 0;
  }
  /** Forgets every episode of this agent (root and segments), and its retention policy; resolves how many episodes went. */
  async drop(): Promise<number> {
    if (!this.writer.peek(this.agentId)) return 0;
    return this.write((d) => {
      const n = forgetEpisodes(d, memoryEpisodeIds(d));
      writePolicy(d, {});
      return n;
    });
  }
  /** Sets the agent's retention policy (replicated); `{}` clears it. Applied by the writable side's sweep. */
  async setPolicy(policy: RetentionPolicy): Promise<void> {
    await this.write((d) => writePolicy(d, policy));
  }
  policy(): RetentionPolicy | undefined {
    const d = this.writer.peek(this.agentId);
    return d ? readPolicy(d.doc) : undefined;
  }
  /** Called after every change, local or replicated; returns an unsubscribe function. */
  onChange(cb: () => void): () => void {
    return this.writer.subscribe(this.agentId, cb);
  }
}

