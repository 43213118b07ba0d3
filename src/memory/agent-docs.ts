// The agents' memory documents on a node: one SegmentedMemory view per agent id over the durable
// document set (the root 'agent/<id>' and, for a split agent, its segments 'agent/<id>/<k>',
// docs/segmented-memory.md), opened on first use and dropped when residency unloads the document,
// and the callbacks that follow each one's changes. An unsplit agent is exactly today's one document.
import { AgentMemoryDoc } from '../../crdt/index.js';
import { SegmentedMemory } from '../../crdt/segmented-memory.js';
import { parseSegmentDocName, segmentDocName, SEGMENT_BITS } from '../../crdt/segments.js';
import { ConfigError } from '../errors.js';
import type { DurableDocSet } from '../storage/durable-doc-set.js';
import { AGENT_ID } from '../vocabulary.js';

export const AGENT_PREFIX = 'agent/';

export function assertAgentId(agentId: string): void {
  if (typeof agentId !== 'string' || !AGENT_ID.test(agentId)) {
    throw new ConfigError(`agent id "${String(agentId)}" is not valid: use 1-128 letters, digits, ".", "_", ":", "@" or "-"`);
  }
}

/** Whether this node splits agents that pass SPLIT_AT (a node option, off by default: docs/segmented-memory.md "Status"). */
export interface SplitOptions {
  split: boolean;
  /** Root episodes past which an agent splits (crdt/segments.ts SPLIT_AT; smaller only in tests). */
  splitAt?: number;
}

export class AgentDocs {
  private readonly memories = new Map<string, SegmentedMemory>();
  /** Open segment documents by document id; dropped when residency unloads one, like a root. */
  private readonly segmentDocs = new Map<string, AgentMemoryDoc>();
  private readonly subscribers = new Map<string, Set<() => void>>();

  constructor(
    private readonly docs: DurableDocSet,
    private readonly self: string,
    private readonly random: () => number,
    private readonly splitting: SplitOptions = { split: false },
  ) {
    // The cached view goes with its document: a later open reads the reloaded (or handed-off) state.
    docs.onEvict((id) => (parseSegmentDocName(id) ? this.segmentDocs.delete(id) : this.memories.delete(id.slice(AGENT_PREFIX.length))));
  }

  /** The agent's memory, opened (and its root created) on first use; the id must be valid. */
  open(agentId: string): SegmentedMemory {
    let m = this.memories.get(agentId);
    if (!m) {
      const segments = { open: (k: number) => this.segment(agentId, k, true)!, peek: (k: number) => this.segment(agentId, k, false) };
      m = new SegmentedMemory({ node: this.self, random: this.random, agentId, doc: this.docs.doc(AGENT_PREFIX + agentId), segments, split: this.splitting.split, splitAt: this.splitting.splitAt });
      this.memories.set(agentId, m);
    }
    return m;
  }

  /** The agent's memory if this node holds its root, without creating it. */
  peek(agentId: string): SegmentedMemory | undefined {
    if (!this.memories.has(agentId) && !this.docs.has(AGENT_PREFIX + agentId)) return undefined;
    return this.open(agentId);
  }

  /** Agent ids (roots only: a segment's name is never an agent id). */
  ids(): string[] {
    return this.docs
      .ids()
      .filter((id) => id.startsWith(AGENT_PREFIX) && !parseSegmentDocName(id))
      .map((id) => id.slice(AGENT_PREFIX.length))
      .sort();
  }

  /** Segment `k` of the agent: opened when `create` or when this node holds it (loaded if unloaded). */
  private segment(agentId: string, k: number, create: boolean): AgentMemoryDoc | undefined {
    const docId = segmentDocName(AGENT_PREFIX + agentId, k, SEGMENT_BITS);
    let d = this.segmentDocs.get(docId);
    if (!d && (create || this.docs.has(docId))) {
      d = new AgentMemoryDoc({ node: this.self, random: this.random, agentId: docId, doc: this.docs.doc(docId) });
      this.segmentDocs.set(docId, d);
    }
    return d;
  }

  subscribe(agentId: string, cb: () => void): () => void {
    const docId = AGENT_PREFIX + agentId;
    let subs = this.subscribers.get(docId);
    if (!subs) this.subscribers.set(docId, (subs = new Set()));
    subs.add(cb);
    return () => subs!.delete(cb);
  }

  /** Document `docId` changed (locally or by replication): tell its subscribers. */
  changed(docId: string): void {
    const subs = this.subscribers.get(parseSegmentDocName(docId)?.root ?? docId);
    if (subs) for (const cb of subs) cb();
  }
}
