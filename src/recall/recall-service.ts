// Keeps a node's recall index in step with its replicated documents and answers recall from it.
// It listens to the document set's update events (local writes and applied remote updates
// alike), queues them (episode-change-queue.ts) and folds them into the index in one SQLite transaction every
// FLUSH_INTERVAL_MS (or sooner once FLUSH_AT_UPDATES updates wait), re-reading only the episodes
// the updates touched. A recall first folds in what is queued, so it always sees every write the
// node has applied. Opening compares each agent's
// document digest with the one the index last matched and rebuilds the agents that differ.
import * as Y from 'yjs';
import { docDigestHex, type Episode } from '../../crdt/index.js';
import { episodesOf } from '../../crdt/schema.js';
import type { Logger, Scheduler } from '../runtime/types.js';
import type { UpdateListener } from '../sync/ydoc-set.js';
import { changedEpisodes } from './episode-changes.js';
import { EpisodeChangeQueue } from './episode-change-queue.js';
import { RecallIndex } from './recall-index.js';
import { RecallRebuild, type RebuildProgress } from './recall-rebuild.js';
import { indexPage, type IndexPageQuery } from './index-page.js';
import type { Page } from '../paging.js';
import { checkRecallQuery, type RecallHit } from './recall-query.js';
import { hasPending, readEpisode } from './agent-decode.js';
import type { AgentDecoding } from './agent-decoder.js';
import { offloadHooks } from './recall-offload.js';
import { segmentDocNames, SEGMENT_BITS } from '../../crdt/segments.js';
import type { IndexMaintenance } from './recall-maintenance.js';

/** Agent memories live in documents named "agent/<id>" (memory-service.ts). */
const AGENT_PREFIX = 'agent/';
/**
 * How long updates wait to be folded in. FTS5 pays per transaction (a new segment, merges, WAL
 * pages): one episode per transaction cost 180 us of CPU, 64 or more per transaction 57-63 us
 * (measured on the bench machine), 280 about 15% less than 70 (session 12: a task's episode is
 * folded in on every replica, so at a few hundred tasks a second a fold every 250 ms carried ~70).
 * Folded in once per event-loop turn, the index was the largest CPU cost of a quorum write on
 * every replica; recall, page() and stats() fold the queue in first, so nothing reads a stale index.
 */
export const FLUSH_INTERVAL_MS = 1000;
/**
 * Update events queued after which the fold runs at the end of the turn instead: bounds the
 * queue's memory and how long one fold holds the event loop (about 70 us per episode).
 */
const FLUSH_AT_UPDATES = 512;
export interface RecallDocs {
  doc(id: string): Y.Doc;
  ids(): string[];
  onLocalUpdate(cb: UpdateListener): void;
  /** A remote update was stored but waits on missing dependencies (DurableDocSet.onPending). */
  onPending?(cb: (id: string) => void): void;
  /** The document's digest (its first bytes at least) without loading it, when it is unloaded (bounded residency). */
  digest?(id: string): Uint8Array;
  /** Unloads idle documents beyond the memory budget (bounded residency). */
  evictIdle?(): number;
  /** Called after a document was unloaded or dropped (DurableDocSet.onEvict). */
  onEvict?(cb: (id: string) => void): void;
  /** Whether the document is held here, resident or not. */
  has?(id: string): boolean;
  /** Whether the document is held as a live Y.Doc now (bounded residency). */
  isResident?(id: string): boolean;
  /** Unloads the document now, whatever the budget (bounded residency). */
  unload?(id: string): boolean;
  /** What the store holds of a document that is not resident (snapshot and log rows), undefined when it is resident. */
  storedParts?(id: string): Uint8Array[] | undefined;
  /** Bytes the store holds of the document. */
  storageStats?(id: string): { snapshotBytes: number; logBytes: number };
}

/** Options of a background rebuild (openInBackground). */
export interface BackgroundRebuildOptions {
  /** Decodes large agents' documents off the event loop (a worker thread); closed with the service. */
  decoder?: AgentDecoding;
  /** Agents stored in at least this many bytes, and not resident, go to the decoder (default 64 KiB). */
  offloadBytes?: number;
}

/** Default of BackgroundRebuildOptions.offloadBytes: a document this size decodes in a few ms. */
const OFFLOAD_BYTES = 64 * 1024;

export interface RecallServiceOptions {
  docs: RecallDocs;
  scheduler: Scheduler;
  /** Index file in the data directory, or ':memory:' (rebuilt on every start). */
  file: string;
  logger: Logger;
  /** Milliseconds, for the slices of a background rebuild (default performance.now; tests pass a fake clock). */
  now?: () => number;
}

export class RecallService {
  private index: RecallIndex | undefined;
  /** Changes of agents' documents not folded in yet. */
  private readonly changes = new EpisodeChangeQueue({ active: () => !!this.index && !this.closed, changed: () => this.scheduleFlush() });
  private flushQueued = false;
  /** Updates seen since the last fold (FLUSH_AT_UPDATES). */
  private queuedUpdates = 0;
  private cancelFlush: (() => void) | undefined;
  /** Agents whose digest row was cleared this run (their rows are changing). */
  private readonly dirty = new Set<string>();
  /** Agents with structs waiting on missing dependencies: rebuilt once their document has none. */
  private readonly unsettled = new Set<string>();
  private closed = false;
  /** Time the last open() took to bring the index in step, and how many agents it rebuilt. */
  lastOpen: { ms: number; rebuilt: number; agents: number; offloads: number } | undefined;
  /** Bringing the index in step after open, while under way. */
  private rebuild: RecallRebuild | undefined;
  private decoder: AgentDecoding | undefined;

  constructor(private readonly o: RecallServiceOptions) {
    o.docs.onLocalUpdate((docId, update) => {
      if (!this.index || !docId.startsWith(AGENT_PREFIX)) return;
      this.changes.update(docId.slice(AGENT_PREFIX.length), this.o.docs.doc(docId), update);
    });
    // A document handed off (dropped, not just unloaded): its rows go, or a later copy pulled for a
    // read would merge into rows that still hold what was forgotten meanwhile.
    o.docs.onEvict?.((docId) => {
      if (!this.index || !docId.startsWith(AGENT_PREFIX) || o.docs.has?.(docId) !== false) return;
      const agent = docId.slice(AGENT_PREFIX.length);
      this.changes.forget(agent);
      this.index.removeAgent(agent);
      this.dirty.delete(agent);
      this.unsettled.delete(agent);
    });
    o.docs.onPending?.((docId) => {
      if (!this.index || !docId.startsWith(AGENT_PREFIX)) return;
      this.unsettled.add(docId.slice(AGENT_PREFIX.length));
      this.scheduleFlush();
    });
  }

  /** Opens the index (once) and brings it in step with every agent's document before returning. */
  open(): RecallIndex {
    if (this.index) {
      this.finishRebuild();
      return this.index;
    }
    const rebuild = this.begin();
    while (!rebuild.slice(Infinity, false));
    this.rebuildDone(rebuild);
    return this.index!;
  }

  /**
   * Opens the index (once) and brings it in step in slices of ~20 ms between which the node goes
   * on serving (recall-rebuild.ts); progress() says how far it is. A node's start uses this.
   */
  openInBackground(opts: BackgroundRebuildOptions = {}): void {
    if (this.index) return;
    this.decoder = opts.decoder;
    const rebuild = this.begin(opts);
    const step = (): void => {
      if (this.closed || this.rebuild !== rebuild) return;
      try {
        if (rebuild.slice()) return this.rebuildDone(rebuild);
      } catch (err) {
        this.o.logger.error({ err: (err as Error).message }, 'rebuilding the recall index failed; it is retried at the next recall');
        return;
      }
      // A timer, not setImmediate: timers come after the I/O of the turn, so RPCs are answered in
      // between. Only the worker's answer awaited: look again in a few ms rather than spin.
      this.o.scheduler.schedule(rebuild.waitingOnWorker() ? 5 : 0, step);
    };
    this.o.scheduler.schedule(0, step);
  }

  /** How far bringing the index in step after opening it is (undefined before open). */
  progress(): RebuildProgress | undefined {
    return this.rebuild?.progress() ?? (this.lastOpen ? { state: 'in-step', agents: this.lastOpen.agents, checked: this.lastOpen.agents, rebuilt: this.lastOpen.rebuilt, offloads: this.lastOpen.offloads, ms: Math.round(this.lastOpen.ms) } : undefined);
  }

  private begin(opts: BackgroundRebuildOptions = {}): RecallRebuild {
    if (this.closed) throw new Error('the recall index is closed');
    const index = new RecallIndex(this.o.file);
    this.index = index;
    const offload = opts.decoder ? offloadHooks(this.o.docs, opts.decoder, opts.offloadBytes ?? OFFLOAD_BYTES, this.o.logger) : {};
    const rebuild = new RecallRebuild(this.agents(), {
      ...offload,
      index,
      doc: (a) => this.o.docs.doc(AGENT_PREFIX + a),
      storedDigest: (a) => this.o.docs.digest?.(AGENT_PREFIX + a),
      put: (a, doc, id) => putEpisode(index, a, doc, id),
      flush: () => this.flush(),
      pending: hasPending,
      settled: (a, digest) => {
        index.setAgentDigest(a, digest);
        this.dirty.delete(a);
      },
      unsettled: (a) => this.unsettled.add(a),
      // Documents loaded here leave again within the budget.
      evictIdle: () => this.o.docs.evictIdle?.(),
      isResident: (a) => this.o.docs.isResident?.(AGENT_PREFIX + a) ?? true,
      unload: (a) => this.o.docs.unload?.(AGENT_PREFIX + a),
      now: this.o.now ?? (() => performance.now()),
    });
    this.rebuild = rebuild;
    return rebuild;
  }

  private rebuildDone(rebuild: RecallRebuild): void {
    const index = this.index!;
    const live = new Set(this.agents());
    index.batch(() => {
      for (const a of index.indexedAgents()) if (!live.has(a)) index.removeAgent(a);
    });
    const p = rebuild.progress();
    this.rebuild = undefined;
    this.lastOpen = { ms: p.ms, rebuilt: p.rebuilt, agents: p.agents, offloads: p.offloads ?? 0 };
    this.o.logger.info({ ...this.lastOpen, file: this.o.file }, 'recall index in step');
  }

  /** A recall of every agent during a background rebuild: the rest is rebuilt now (it must see every agent). */
  private finishRebuild(agent?: string): void {
    const rebuild = this.rebuild;
    if (!rebuild) return;
    if (agent !== undefined) return this.docKeys(agent).forEach((k) => rebuild.now(k));
    while (!rebuild.slice(Infinity, false));
    this.rebuildDone(rebuild);
  }

  /**
   * A page of the agent's episodes from the index (index-page.ts), without loading its document;
   * undefined when the index cannot vouch for the agent now (not open, not rebuilt yet, structs
   * waiting on dependencies): read the document then.
   */
  page(agent: string, q: IndexPageQuery): Page<Episode> | undefined {
    const index = this.index;
    const keys = this.docKeys(agent);
    if (!index || this.closed || keys.some((k) => this.rebuild?.waiting(k) || this.unsettled.has(k))) return undefined;
    this.flush();
    if (keys.some((k) => this.unsettled.has(k))) return undefined;
    return indexPage(index, agent, q);
  }

  /**
   * page(), except that an agent the rebuild has not reached yet is rebuilt first, ahead of the
   * others (a large one decoded off the event loop), instead of answering undefined: the caller
   * would read the page from the document, and loading a large one holds the event loop. An agent
   * whose document is resident is not waited for (reading it costs no decode).
   */
  async pageSoon(agent: string, q: IndexPageQuery): Promise<Page<Episode> | undefined> {
    const rebuild = this.rebuild;
    for (const k of this.docKeys(agent)) if (rebuild?.waiting(k) && this.o.docs.isResident?.(AGENT_PREFIX + k) === false) await rebuild.whenRebuilt(k);
    return this.page(agent, q);
  }

  /** The index keys of an agent's documents held here: the agent id (its root) and, split, '<id>/<k>' per segment (recall-index.ts). */
  private docKeys(agent: string): string[] {
    const has = this.o.docs.has?.bind(this.o.docs);
    if (!has) return [agent];
    return [agent, ...segmentDocNames(agent, SEGMENT_BITS).filter((k) => has(AGENT_PREFIX + k))];
  }

  /** Ranked episodes of one agent (or of every agent when `agent` is undefined). */
  recall(agent: string | undefined, query: unknown): RecallHit[] {
    const q = checkRecallQuery(query);
    if (!this.index) this.open();
    this.finishRebuild(agent);
    this.flush();
    return this.index!.search(agent, q);
  }

  /** Folds every queued update into the index now. */
  flush(): void {
    this.flushQueued = false;
    this.queuedUpdates = 0;
    this.cancelFlush?.();
    this.cancelFlush = undefined;
    const index = this.index;
    if (!index || (this.changes.empty && this.unsettled.size === 0)) return;
    const { updates: queue, touched } = this.changes.take();
    index.batch(() => {
      for (const [agent, ids] of touched) {
        if (!this.dirty.has(agent)) {
          index.clearAgentDigest(agent);
          this.dirty.add(agent);
        }
        const doc = this.o.docs.doc(AGENT_PREFIX + agent);
        if (ids === 'rebuild') rebuildAgent(index, agent, doc);
        else for (const id of ids) putEpisode(index, agent, doc, id);
      }
      for (const [agent, updates] of queue) {
        if (!this.dirty.has(agent)) {
          index.clearAgentDigest(agent);
          this.dirty.add(agent);
        }
        const doc = this.o.docs.doc(AGENT_PREFIX + agent);
        if (updates === 'rebuild') {
          rebuildAgent(index, agent, doc);
          continue;
        }
        const ids = new Set<string>();
        for (const u of updates) {
          const c = changedEpisodes(doc, u);
          for (const id of c.ids) ids.add(id);
          if (c.incomplete) this.unsettled.add(agent);
        }
        for (const id of ids) putEpisode(index, agent, doc, id);
      }
      for (const agent of [...this.unsettled]) {
        if (!this.dirty.has(agent)) {
          index.clearAgentDigest(agent);
          this.dirty.add(agent);
        }
        const doc = this.o.docs.doc(AGENT_PREFIX + agent);
        if (hasPending(doc)) continue;
        this.unsettled.delete(agent);
        rebuildAgent(index, agent, doc);
      }
    });
  }

  /** Index size and episode count (benchmarks, /status). */
  stats(): { episodes: number; bytes: number } | undefined {
    if (!this.index) return undefined;
    this.flush();
    return { episodes: this.index.episodes(), bytes: this.index.bytes() };
  }

  /**
   * The index file's maintenance (recall-maintenance.ts), run with the store's periodic one;
   * undefined when there is no index open or it is being brought in step (it runs next time).
   */
  maintain(budgetMs?: number): IndexMaintenance | undefined {
    if (!this.index || this.closed || this.rebuild) return undefined;
    this.flush();
    return this.index.maintain(budgetMs);
  }

  /** Folds in what is queued, records the agents now in step, and closes the index. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.rebuild?.cancel();
    this.decoder?.close();
    this.cancelFlush?.();
    this.cancelFlush = undefined;
    const index = this.index;
    if (!index) return;
    try {
      this.flush();
      index.batch(() => {
        for (const agent of this.dirty) {
          // Not rebuilt yet (the start's rebuild was under way): its older rows are not vouched for.
          if (this.rebuild?.waiting(agent)) continue;
          const doc = this.o.docs.doc(AGENT_PREFIX + agent);
          if (!hasPending(doc)) index.setAgentDigest(agent, docDigestHex(doc));
        }
      });
    } catch (err) {
      this.o.logger.warn({ err: (err as Error).message }, 'recall index not saved in step; it is rebuilt at the next start');
    } finally {
      index.close();
      this.index = undefined;
    }
  }

  private agents(): string[] {
    return this.o.docs.ids().filter((id) => id.startsWith(AGENT_PREFIX)).map((id) => id.slice(AGENT_PREFIX.length));
  }

  private scheduleFlush(): void {
    const soonest = ++this.queuedUpdates >= FLUSH_AT_UPDATES;
    if (this.flushQueued && !(soonest && this.cancelFlush)) return;
    this.flushQueued = true;
    const run = (): void => {
      if (this.closed) return;
      try {
        this.flush();
      } catch (err) {
        this.o.logger.error({ err: (err as Error).message }, 'updating the recall index failed');
      }
    };
    this.cancelFlush?.();
    this.cancelFlush = undefined;
    if (soonest && this.o.scheduler.immediate) this.o.scheduler.immediate(run);
    else this.cancelFlush = this.o.scheduler.schedule(soonest ? 0 : FLUSH_INTERVAL_MS, run);
  }
}

function putEpisode(index: RecallIndex, agent: string, doc: Y.Doc, id: string): void {
  const e = readEpisode(doc, id);
  if (e) index.put(agent, e);
  else index.remove(agent, id);
}

function rebuildAgent(index: RecallIndex, agent: string, doc: Y.Doc): void {
  index.removeAgent(agent);
  for (const id of episodesOf(doc).keys()) {
    const e = readEpisode(doc, id);
    if (e) index.put(agent, e, true);
  }
}
