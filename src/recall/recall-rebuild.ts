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
//
// What slices cannot split is decoding one document. A large agent whose document is not
// resident is therefore decoded off the event loop (hooks.offload: a worker thread, see
// agent-decoder.ts) while the slices go on with other agents; its episodes come back as JSON and
// are put in slices like any other. The worker read the document as stored when it was asked, so
// before the agent's digest is recorded, the digest the worker decoded is compared with the
// agent's digest now: a write or sync meanwhile makes them differ and the agent is rebuilt again
// (from the live document, which the write made resident), never vouched for with stale rows.
import type * as Y from 'yjs';
import type { Episode } from '../../crdt/index.js';
import { docDigestHex } from '../../crdt/index.js';
import { episodesOf } from '../../crdt/schema.js';
import type { DecodedAgent } from './agent-decode.js';
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
  /** Whether the agent's document is held as a live Y.Doc now (absent: treated as resident, nothing is unloaded). */
  isResident?(agent: string): boolean;
  /** Unloads the agent's document now: it was loaded only for its rebuild. */
  unload?(agent: string): void;
  now(): number;
  /** Whether `agent` is worth decoding off the event loop now (large, not resident); absent: never. */
  offloadable?(agent: string): boolean;
  /** Decodes the agent's stored document off the event loop, its episodes to `onChunk` as JSON arrays. */
  offload?(agent: string, onChunk: (json: string) => void): Promise<DecodedAgent>;
  /** The agent's digest now (hex, a prefix will do), without loading its document. */
  currentDigest?(agent: string): string;
  /** An offloaded decode failed (the agent is then rebuilt on the event loop). */
  offloadFailed?(agent: string, err: Error): void;
}

/** An agent decoded off the event loop: its episodes arrive in chunks, then its digest. */
interface Away {
  agent: string;
  chunks: string[];
  /** The chunk being put, and how far. */
  cur: Episode[];
  ci: number;
  result?: DecodedAgent;
  failed?: Error;
}

export interface RebuildProgress {
  state: 'rebuilding' | 'in-step';
  agents: number;
  checked: number;
  rebuilt: number;
  /** The agent being rebuilt now and how far (episodes put of those it had when started). */
  current?: { agent: string; done: number; of: number };
  /** The agent being decoded off the event loop, and its episodes put so far. */
  offloaded?: { agent: string; put: number };
  /** Agents decoded off the event loop so far. */
  offloads?: number;
  ms: number;
}

export class RecallRebuild {
  private next = 0;
  private current: { agent: string; doc: Y.Doc; ids: string[]; i: number; loadedHere: boolean } | undefined;
  private rebuilt = 0;
  private readonly started: number;
  private finishedMs: number | undefined;
  private readonly queued = new Set<string>();
  private away: Away | undefined;
  private awayPut = 0;
  private offloads = 0;
  /** Large agents waiting for the worker, which decodes one at a time. */
  private readonly deferred: string[] = [];
  /** Agents to rebuild again (changed while decoded elsewhere, or the decode failed). */
  private readonly retry: string[] = [];
  /** Agents never offloaded again (their decode failed once). */
  private readonly inLoopOnly = new Set<string>();
  private readonly waiters = new Map<string, Array<() => void>>();

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
      ...(this.away ? { offloaded: { agent: this.away.agent, put: this.awayPut } } : {}),
      offloads: this.offloads,
      ms: Math.round((this.finishedMs ?? this.h.now()) - this.started),
    };
  }

  /** Rebuilds `agent` now, whole (a recall of that agent is asked during the rebuild). */
  now(agent: string): void {
    if (!this.queued.has(agent)) return;
    // Decoded off the loop meanwhile: that result is dropped (the agent is no longer queued then).
    if (this.away?.agent === agent) this.away = undefined;
    // Another agent half done waits and continues afterwards.
    const other = this.current?.agent !== agent ? this.current : undefined;
    if (other) this.current = undefined;
    if (!this.current) this.begin(agent);
    this.work(agent, Infinity);
    this.current = other;
  }

  /**
   * Resolves once `agent` is rebuilt (at once if it is not waiting), and moves it to the front:
   * a large agent not resident is decoded off the event loop next, any other is rebuilt now.
   */
  whenRebuilt(agent: string): Promise<void> {
    if (!this.queued.has(agent)) return Promise.resolve();
    const p = new Promise<void>((resolve) => {
      const list = this.waiters.get(agent) ?? [];
      list.push(resolve);
      this.waiters.set(agent, list);
    });
    if (this.away?.agent !== agent && this.current?.agent !== agent) {
      // Already in step (compared by stored digests, nothing loaded): nothing to rebuild.
      if (this.inStep(agent)) this.finish(agent);
      else if (this.h.offload && !this.inLoopOnly.has(agent) && this.h.offloadable?.(agent)) {
        const i = this.deferred.indexOf(agent);
        if (i >= 0) this.deferred.splice(i, 1);
        if (this.away) this.deferred.unshift(agent);
        else this.startOffload(agent);
      } else this.now(agent);
    }
    return p;
  }

  /** Whether the rebuild waits for the worker only (the caller may poll less often). */
  waitingOnWorker(): boolean {
    return this.away !== undefined && this.away.chunks.length === 0 && this.away.ci >= this.away.cur.length && !this.away.result && !this.away.failed && !this.current && this.retry.length === 0 && this.next >= this.agents.length;
  }

  /**
   * Works for at most `budgetMs`; returns true when everything is in step. `offload` false
   * (a caller that must finish now, synchronously) rebuilds every agent on the event loop,
   * including those handed to the worker, whose results are then dropped.
   */
  slice(budgetMs = SLICE_MS, offload = true): boolean {
    const deadline = this.h.now() + budgetMs;
    while (this.h.now() < deadline) {
      const a = this.away;
      const ready = a !== undefined && (a.chunks.length > 0 || a.ci < a.cur.length || a.result !== undefined || a.failed !== undefined);
      // An agent someone waits for (memory show) goes before the one being rebuilt here.
      if (this.current && !(ready && this.waiters.has(a.agent))) {
        this.work(this.current.agent, deadline);
        continue;
      }
      if (ready) {
        this.drain(a, deadline);
        continue;
      }
      if (!offload && (a || this.deferred.length > 0)) {
        if (a) this.retry.push(a.agent);
        this.away = undefined;
        this.retry.push(...this.deferred.splice(0));
        continue;
      }
      if (!a && this.deferred.length > 0) {
        const agent = this.deferred.shift()!;
        if (this.queued.has(agent)) this.startOffload(agent);
        continue;
      }
      const again = this.retry.shift();
      if (again !== undefined) {
        if (this.queued.has(again)) this.begin(again, offload);
        continue;
      }
      if (this.next >= this.agents.length) {
        if (this.away) return false; // the worker's answer comes back later
        if (!this.done()) this.finishedMs = this.h.now();
        return true;
      }
      const agent = this.agents[this.next++]!;
      if (!this.queued.has(agent)) continue; // rebuilt on demand already
      if (this.inStep(agent)) this.finish(agent);
      else this.begin(agent, offload);
    }
    return false;
  }

  /** Stops: the worker's answer, if one is awaited, is dropped; waiters are released (they read the document then). */
  cancel(): void {
    this.away = undefined;
    this.deferred.length = 0;
    for (const list of this.waiters.values()) for (const w of list) w();
    this.waiters.clear();
  }

  private finish(agent: string): void {
    this.queued.delete(agent);
    const list = this.waiters.get(agent);
    if (!list) return;
    this.waiters.delete(agent);
    for (const w of list) w();
  }

  private startOffload(agent: string): void {
    const away: Away = { agent, chunks: [], cur: [], ci: 0 };
    this.h.index.batch(() => {
      this.h.index.clearAgentDigest(agent);
      this.h.index.removeAgent(agent);
    });
    this.away = away;
    this.awayPut = 0;
    this.offloads++;
    this.h.offload!(agent, (json) => away.chunks.push(json)).then(
      (r) => {
        away.result = r;
      },
      (err: Error) => {
        away.failed = err;
      },
    );
  }

  /** Puts the worker's episodes until `deadline`; once all are in, records the agent or queues it again. */
  private drain(a: Away, deadline: number): void {
    if (a.failed) {
      this.away = undefined;
      this.inLoopOnly.add(a.agent);
      this.h.offloadFailed?.(a.agent, a.failed);
      if (this.queued.has(a.agent)) this.retry.push(a.agent);
      return;
    }
    let stop = false;
    this.h.index.batch(() => {
      for (;;) {
        if (a.ci >= a.cur.length) {
          const next = a.chunks.shift();
          if (next === undefined) return;
          a.cur = JSON.parse(next) as Episode[];
          a.ci = 0;
        }
        this.h.index.put(a.agent, a.cur[a.ci++]!);
        this.awayPut++;
        if (a.ci % CHECK_EVERY === 0 && this.h.now() >= deadline) {
          stop = true;
          return;
        }
      }
    });
    if (stop || !a.result || a.chunks.length > 0 || a.ci < a.cur.length) return;
    this.away = undefined;
    if (!this.queued.has(a.agent)) return; // rebuilt on demand meanwhile
    // Writes made meanwhile are folded in from the live document (after the worker's rows).
    this.h.flush();
    const now = this.h.currentDigest?.(a.agent) ?? '';
    if (a.result.pending) {
      this.rebuilt++;
      this.finish(a.agent);
      this.h.unsettled(a.agent);
    } else if (now.length > 0 && a.result.digest.startsWith(now)) {
      this.rebuilt++;
      this.finish(a.agent);
      this.h.settled(a.agent, a.result.digest);
    } else {
      // The document changed after the worker read it: rows may be older than it; again.
      this.retry.push(a.agent);
    }
    this.h.evictIdle();
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

  private begin(agent: string, offload = false): void {
    if (offload && this.h.offload && !this.inLoopOnly.has(agent) && this.h.offloadable?.(agent)) {
      if (this.away) this.deferred.push(agent);
      else this.startOffload(agent);
      return;
    }
    const loadedHere = this.h.isResident?.(agent) === false;
    const doc = this.h.doc(agent);
    this.h.index.batch(() => {
      this.h.index.clearAgentDigest(agent);
      this.h.index.removeAgent(agent);
    });
    this.current = { agent, doc, ids: [...episodesOf(doc).keys()], i: 0, loadedHere };
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
    this.finish(agent);
    this.rebuilt++;
    this.h.flush();
    if (this.h.pending(c.doc)) this.h.unsettled(agent);
    else this.h.settled(agent, docDigestHex(c.doc));
    // Loaded only to be read: it goes again now, rather than filling the budget with documents
    // nobody uses (a rebuild of 2,000 agents held ~450 MB of RSS that way).
    if (c.loadedHere) this.h.unload?.(agent);
    this.h.evictIdle();
  }
}
