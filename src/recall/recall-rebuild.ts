// Bringing the recall index in step after a restart without holding the event loop: the agents
// whose index rows the index no longer vouches for are rebuilt in slices of at most SLICE_MS,
// a few episodes at a time (an agent of 100,000 episodes spans many slices), yielding to I/O
// between slices, so the node answers RPCs (writes, `tri memory show`) while it rebuilds.
//
// Correct while interleaved with writes: a slice reads each episode from the live document at
// that moment, and RecallService.flush() folds every change made meanwhile in as usual (puts are
// idempotent upserts, a deleted episode reads as absent and is not put back). An agent's digest
// row is written only when its rebuild is finished and the queue folded in, so a crash mid-way
// leaves it to be rebuilt at the next start.
import type * as Y from 'yjs';
import { docDigestHex } from '../../crdt/index.js';
import { episodesOf } from '../../crdt/schema.js';
import type { RecallIndex } from './recall-index.js';

/** One slice holds the event loop at most about this long. */
export const SLICE_MS = 20;
/** Clock checks are this many episodes apart (a put costs ~70 us). */
const CHECK_EVERY = 32;

export interface RebuildHooks {
  index: RecallIndex;
  /** The agent's document (loaded on demand; residency unloads it again later). */
  doc(agent: string): Y.Doc;
  /** The digest residency stored for an unloaded agent, if any (no load needed to compare). */
  storedDigest(agent: string): Uint8Array | undefined;
  /** Puts one episode as the document reads now (or removes it). */
  put(agent: string, doc: Y.Doc, id: string): void;
  /** Folds queued updates in (RecallService.flush), before an agent's digest is recorded. */
  flush(): void;
  /** Whether the document waits on missing structs (its digest must not be recorded yet). */
  pending(doc: Y.Doc): boolean;
  /** Agent `agent`'s rows now match its document: record the digest, forget it was dirty. */
  settled(agent: string, digest: string): void;
  /** The document holds structs waiting on dependencies: leave it to the flush path. */
  unsettled(agent: string): void;
  /** Unloads idle documents beyond the budget. */
  evictIdle(): void;
  now(): number;
}

export interface RebuildProgress {
  state: 'rebuilding' | 'in-step';
  agents: number;
  checked: number;
  rebuilt: number;
  /** The agent being rebuilt now and how far (episodes put of those it had when started). */
  current?: { agent: string; done: number; of: number };
  ms: number;
}

export class RecallRebuild {
  private next = 0;
  private current: { agent: string; doc: Y.Doc; ids: string[]; i: number } | undefined;
  private rebuilt = 0;
  private readonly started: number;
  private finishedMs: number | undefined;
  private readonly queued = new Set<string>();

  constructor(
    private readonly agents: readonly string[],
    private readonly h: RebuildHooks,
  ) {
    this.started = h.now();
    for (const a of agents) this.queued.add(a);
  }

  done(): boolean {
    return this.finishedMs !== undefined;
  }

  /** Whether `agent` still waits for (or is in) its rebuild. */
  waiting(agent: string): boolean {
    return this.queued.has(agent);
  }

  progress(): RebuildProgress {
    const c = this.current;
    return {
      state: this.done() ? 'in-step' : 'rebuilding',
      agents: this.agents.length,
      checked: this.next,
      rebuilt: this.rebuilt,
      ...(c ? { current: { agent: c.agent, done: c.i, of: c.ids.length } } : {}),
      ms: Math.round((this.finishedMs ?? this.h.now()) - this.started),
    };
  }

  /** Rebuilds `agent` now, whole (a recall of that agent is asked during the rebuild). */
  now(agent: string): void {
    if (!this.queued.has(agent)) return;
    // Another agent half done waits and continues afterwards.
    const other = this.current?.agent !== agent ? this.current : undefined;
    if (other) this.current = undefined;
    if (!this.current) this.begin(agent);
    this.work(agent, Infinity);
    this.current = other;
  }

  /** Works for at most `budgetMs`; returns true when everything is in step. */
  slice(budgetMs = SLICE_MS): boolean {
    const deadline = this.h.now() + budgetMs;
    while (this.h.now() < deadline) {
      if (this.current) {
        this.work(this.current.agent, deadline);
        continue;
      }
      if (this.next >= this.agents.length) {
        if (!this.done()) this.finishedMs = this.h.now();
        return true;
      }
      const agent = this.agents[this.next++]!;
      if (!this.queued.has(agent)) continue; // rebuilt on demand already
      if (this.inStep(agent)) this.queued.delete(agent);
      else this.begin(agent);
    }
    return false;
  }

  private inStep(agent: string): boolean {
    // Compared by the digest residency stored: an agent in step is not loaded.
    const indexed = this.h.index.agentDigest(agent);
    if (indexed === undefined) return false;
    const known = this.h.storedDigest(agent);
    if (known !== undefined && known.length > 0) return indexed.startsWith(Buffer.from(known).toString('hex'));
    const doc = this.h.doc(agent);
    return indexed === docDigestHex(doc);
  }

  private begin(agent: string): void {
    const doc = this.h.doc(agent);
    this.h.index.batch(() => {
      this.h.index.clearAgentDigest(agent);
      this.h.index.removeAgent(agent);
    });
    this.current = { agent, doc, ids: [...episodesOf(doc).keys()], i: 0 };
  }

  private work(agent: string, deadline: number): void {
    const c = this.current!;
    // The document may have been unloaded and loaded again between slices: read the live one.
    c.doc = this.h.doc(agent);
    this.h.index.batch(() => {
      while (c.i < c.ids.length) {
        this.h.put(agent, c.doc, c.ids[c.i++]!);
        if (c.i % CHECK_EVERY === 0 && this.h.now() >= deadline) return;
      }
    });
    if (c.i < c.ids.length) return;
    this.current = undefined;
    this.queued.delete(agent);
    this.rebuilt++;
    this.h.flush();
    if (this.h.pending(c.doc)) this.h.unsettled(agent);
    else this.h.settled(agent, docDigestHex(c.doc));
    this.h.evictIdle();
  }
}
