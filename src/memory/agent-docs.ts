// The agents' memory documents on a node: one SegmentedMemory view per agent id over the durable
// document set (the root 'agent/<id>' and, for a split agent, its segments 'agent/<id>/<k>',
// docs/segmented-memory.md), opened on first use and dropped when residency unloads the document,
// and the callbacks that follow each one's changes. An unsplit agent is exactly today's one document.
// A reloaded document writes as the Yjs client id it was last written with here (ClientIdReuse).
import * as Y from 'yjs';
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
  private readonly clientIds = new ClientIdReuse();

  constructor(
    private readonly docs: DurableDocSet,
    private readonly self: string,
    private readonly random: () => number,
    private readonly splitting: SplitOptions = { split: false },
  ) {
    // The cached view goes with its document: a later open reads the reloaded (or handed-off) state.
    docs.onEvict((id) => {
      const isSegment = parseSegmentDocName(id) !== undefined;
      const agentId = id.slice(AGENT_PREFIX.length);
      const gone = isSegment ? this.segmentDocs.get(id) : this.memories.get(agentId);
      // Still held (unloaded, not handed off): a reload may write as its id again.
      this.clientIds.unloaded(id, gone, this.docs.has(id));
      if (isSegment) this.segmentDocs.delete(id);
      else this.memories.delete(agentId);
    });
  }

  /** The agent's memory, opened (and its root created) on first use; the id must be valid. */
  open(agentId: string): SegmentedMemory {
    let m = this.memories.get(agentId);
    if (!m) {
      const segments = { open: (k: number) => this.segment(agentId, k, true)!, peek: (k: number) => this.segment(agentId, k, false) };
      const docId = AGENT_PREFIX + agentId;
      const doc = this.docs.doc(docId);
      m = new SegmentedMemory({ node: this.self, random: this.random, agentId, doc, segments, split: this.splitting.split, splitAt: this.splitting.splitAt, ...this.clientIds.reloaded(docId, doc) });
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
      const doc = this.docs.doc(docId);
      d = new AgentMemoryDoc({ node: this.self, random: this.random, agentId: docId, doc, ...this.clientIds.reloaded(docId, doc) });
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

/**
 * The Yjs client id each unloaded document was last written with here, and its clock then. A
 * fresh id per reload added a client to the state vector, delete set and struct store for ever
 * (docs/retention.md: ~16 B on disk and ~0.3 KB of heap per reload under a small budget).
 */
class ClientIdReuse {
  private readonly last = new Map<string, { id: number; clock: number }>();
  /** Retired ids handed out so far: mixed into each replacement so no two stale instances share one. */
  private retired = 0;

  /** Document `docId` left memory; `instance` is the view that wrote it, if one was open. */
  unloaded(docId: string, instance: AgentMemoryDoc | undefined, stillHeld: boolean): void {
    // A holder of the unloaded instance that still writes must not write as the id a reload reuses.
    const own = instance?.retireClientId(replacementId(instance.clientID, ++this.retired));
    if (own) this.last.set(docId, own); // (loaded and unloaded with no view open: an earlier record stands)
    if (!stillHeld) this.last.delete(docId); // handed off: nothing to reload
  }

  /**
   * The id a reload of `docId` writes as, when `doc` holds exactly the clock it ended at. Safe:
   * only the retired instance ever wrote as it, and no further (retired), so every struct with that
   * id is below that clock and in `doc`: the next one's clock was never used anywhere.
   */
  reloaded(docId: string, doc: Y.Doc): { clientId?: number } {
    const last = this.last.get(docId);
    this.last.delete(docId);
    return last && Y.getState(doc.store, last.id) === last.clock ? { clientId: last.id } : {};
  }
}

/** A uint32 client id other than `id` from no random stream (a seeded simulation's draws stay as they were). */
function replacementId(id: number, n: number): number {
  let h = Math.imul((id ^ Math.imul(n, 0x9e3779b9)) >>> 0, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h = (h ^ (h >>> 16)) >>> 0;
  return h === 0 || h === id ? 1 + (id % 0xfffffffe) : h;
}
