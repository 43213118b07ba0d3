// Memory retention on a node: explicit forgets (one episode, a whole agent), the per-agent
// policy applied by a periodic sweep, and reclaiming the space of what was forgotten.
//
// Reclaiming: whenever an episode leaves an agent's document (a local forget, or a peer's
// forget merged here), the document is rewritten in the store a moment later (RECLAIM_DELAY_MS,
// so a burst of forgets costs one rewrite): Yjs has already garbage-collected the deleted content
// from the live document, its encoding becomes the new snapshot, the log rows holding the old
// content are deleted, and the store hands freed pages back and checkpoints its write-ahead log.
// Before that, the tombstones the deleted keys left are folded (storage/tombstone-fold.ts), so a
// forgotten episode or a trimmed task (the task table is watched the same way) costs nothing.
import * as Y from 'yjs';
import { EPISODES_ROOT, episodesOf } from '../../crdt/schema.js';
import { transactionChanged } from '../../crdt/updates.js';
import { TASKS_ROOT } from '../tasks/task-schema.js';
import { foldableCount, foldTombstones } from '../storage/tombstone-fold.js';
import type { Logger, Runtime } from '../runtime/types.js';
import type { MemoryService } from './memory-service.js';
import { forgetEpisodes, memoryDocs, overPolicy, POLICY_KEY, readPolicy, type RetentionPolicy } from './forget.js';
import type { NodeStore } from '../storage/types.js';

const AGENT_PREFIX = 'agent/';
/** The replicated task table (node/task-service.ts TASKS_DOC): trimmed tasks are folded like forgotten episodes. */
const TASKS_DOC = 'tasks';
const POLICY_INDEX = 'memory-policy/';
/** A burst of forgets is reclaimed in one rewrite this long after the first. */
const RECLAIM_DELAY_MS = 1000;
/** How often the writable side applies the agents' retention policies. */
export const POLICY_SWEEP_MS = 30_000;
/** Episodes one sweep forgets per agent at most (one quorum write each; the next sweep continues). */
const MAX_FORGET_PER_WRITE = 5000;

export interface MemoryRetentionOptions {
  service: MemoryService;
  /** Where the index of agents with a policy is kept. */
  store: NodeStore;
  runtime: Runtime;
  /** Whether this node may write now (a read-only node leaves the sweep to the writable side). */
  writable: () => boolean;
  sweepMs?: number;
}

/**
 * A transaction that added or deleted structs yet changed no type: what arrived was collected at
 * once (an edit made inside an episode forgotten meanwhile, by a replica that had not seen the
 * forget). Its bytes are in the log all the same; the reclaim rewrites them away.
 */
function collectedOnArrival(tr: Y.Transaction): boolean {
  return tr.changed.size === 0 && transactionChanged(tr);
}

export class MemoryRetention {
  private readonly log: Logger;
  private readonly reclaimQueued = new Set<string>();
  private reclaimArmed = false;
  private readonly withPolicy = new Map<string, RetentionPolicy>();
  private cancelSweep: (() => void) | undefined;
  private stopped = false;
  /** Episodes forgotten on this node by policy, and documents reclaimed (status, metrics). */
  /**
   * Episodes forgotten on this node by policy, documents reclaimed, store maintenance passes
   * after reclaiming (one per batch of documents), and what the last sweep saw:
   * agents with a policy and how many of them it trimmed (all of them once every agent is at its
   * policy: the steady state the soak waits for) (status, metrics).
   */
  readonly stats = { forgottenByPolicy: 0, reclaimed: 0, tombstonesFolded: 0, maintenance: 0, lastSweepAgents: 0, lastSweepTrimmed: 0 };

  constructor(private readonly o: MemoryRetentionOptions) {
    this.log = o.runtime.logger.child({ component: 'memory-retention' });
    const docs = o.service.docs;
    // Agents with a policy, as last seen (kept in the store too, so neither a restart nor a sweep
    // has to load every document to find them: documents may be unloaded, residency.ts).
    for (const [key, json] of o.store.kvList(POLICY_INDEX)) {
      try {
        this.withPolicy.set(key.slice(POLICY_INDEX.length), JSON.parse(json) as RetentionPolicy);
      } catch {
        // a damaged entry: the agent's document says again when it is next loaded
      }
    }
    for (const id of docs.residentIds()) this.watchAny(id, docs.doc(id));
    docs.onDocCreated((id, doc) => this.watchAny(id, doc));
    this.armSweep();
  }

  policy(agentId: string): RetentionPolicy | undefined {
    const mem = this.o.service.peek(agentId);
    return mem ? readPolicy(mem.doc) : undefined;
  }

  /** Every agent with a policy, and the policy (for /status). */
  policies(): Record<string, RetentionPolicy> {
    return Object.fromEntries([...this.withPolicy].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  /** Records the policy an agent's document holds now, when it differs from what was known. */
  private notePolicy(agent: string, doc: Y.Doc): void {
    const p = readPolicy(doc);
    const before = this.withPolicy.get(agent);
    if (JSON.stringify(p) === JSON.stringify(before)) return;
    try {
      if (p) this.o.store.kvSet(POLICY_INDEX + agent, JSON.stringify(p));
      else this.o.store.kvDelete(POLICY_INDEX + agent);
    } catch (err) {
      this.log.warn({ agent, err: (err as Error).message }, 'recording the agent policy index failed');
    }
    if (p) this.withPolicy.set(agent, p);
    else this.withPolicy.delete(agent);
  }

  /** Applies every agent's policy once now (the periodic sweep; tests call it directly). */
  async sweep(): Promise<number> {
    if (!this.o.writable()) return 0;
    const now = this.wallNow();
    let forgotten = 0;
    let agents = 0;
    let trimmed = 0;
    for (const agent of [...this.withPolicy.keys()]) {
      if (this.stopped) break;
      const mem = this.o.service.peek(agent);
      const policy = mem && readPolicy(mem.doc);
      if (!mem || !policy) continue;
      agents++;
      const over = overPolicy(memoryDocs(mem).map((d) => d.doc), policy, now).slice(0, MAX_FORGET_PER_WRITE);
      if (over.length === 0) continue;
      try {
        const n = await this.o.service.write(agent, (d) => forgetEpisodes(d, over));
        forgotten += n;
        if (n > 0) trimmed++;
        this.stats.forgottenByPolicy += n;
      } catch (err) {
        this.log.info({ agent, err: (err as Error).message }, 'retention sweep: forgetting over-policy episodes failed; retrying next sweep');
      }
    }
    this.stats.lastSweepAgents = agents;
    this.stats.lastSweepTrimmed = trimmed;
    return forgotten;
  }

  stop(): void {
    this.stopped = true;
    this.cancelSweep?.();
  }

  private armSweep(): void {
    if (this.stopped) return;
    this.cancelSweep = this.o.runtime.scheduler.schedule(this.o.sweepMs ?? POLICY_SWEEP_MS, () => {
      void this.sweep().finally(() => this.armSweep());
    });
  }

  private watchAny(docId: string, doc: Y.Doc): void {
    if (docId.startsWith(AGENT_PREFIX)) this.watch(docId, doc);
    else if (docId === TASKS_DOC) this.watchTasks(doc);
  }

  /** Trimmed tasks: the table is rewritten and its tombstones folded after a trim (here or merged). */
  private watchTasks(doc: Y.Doc): void {
    const root = doc.getMap(TASKS_ROOT);
    if (foldableCount(root) > 0) this.queueReclaim(TASKS_DOC);
    doc.on('afterTransaction', (tr: Y.Transaction) => {
      let keys: Set<string | null> | undefined;
      for (const [type, changed] of tr.changed) if (type === (root as unknown)) keys = changed;
      if (keys) for (const k of keys) if (k !== null && !root.has(k)) return this.queueReclaim(TASKS_DOC);
      if (collectedOnArrival(tr)) this.queueReclaim(TASKS_DOC);
    });
  }

  /** Schedules a reclaim of the document whenever one of its episodes is deleted, here or by merge. */
  private watch(docId: string, doc: Y.Doc): void {
    const root = episodesOf(doc);
    const agent = docId.slice(AGENT_PREFIX.length);
    const segment = agent.includes('/'); // a split agent's segment (docs/segmented-memory.md): episodes only, no policy
    if (!segment) this.notePolicy(agent, doc);
    // Stored before tombstones were folded (an older version, or a crash before the rewrite).
    if (foldableCount(root) > 0) this.queueReclaim(docId);
    doc.on('afterTransaction', (tr: Y.Transaction) => {
      if (collectedOnArrival(tr)) return this.queueReclaim(docId);
      let keys: Set<string | null> | undefined;
      for (const [type, changed] of tr.changed) if (type === (root as unknown)) keys = changed;
      if (!keys) return;
      if (keys.has(POLICY_KEY) && !segment) this.notePolicy(agent, doc);
      for (const k of keys) {
        if (k !== null && k !== POLICY_KEY && !root.has(k)) return this.queueReclaim(docId);
      }
    });
  }

  /**
   * Queues `docId` for the next reclaim pass. One pass takes every document queued by then and
   * runs the store's maintenance (vacuum, write-ahead log truncated: an fsync on the event loop)
   * once for all of them: a policy sweep trims every agent of a fleet within seconds, and a
   * maintenance per document was hundreds of synchronous fsyncs per sweep.
   */
  private queueReclaim(docId: string, delayMs = RECLAIM_DELAY_MS): void {
    if (this.stopped) return;
    this.reclaimQueued.add(docId);
    if (this.reclaimArmed) return;
    this.reclaimArmed = true;
    this.o.runtime.scheduler.schedule(delayMs, () => {
      this.reclaimArmed = false;
      this.reclaimPass();
    });
  }

  private reclaimPass(): void {
    if (this.stopped) return;
    const ids = [...this.reclaimQueued];
    this.reclaimQueued.clear();
    let done = 0;
    let again: string | undefined;
    for (const docId of ids) {
      try {
        // Updates waiting for their group commit: after it (the snapshot must cover them).
        const roots = docId === TASKS_DOC ? [TASKS_ROOT] : [EPISODES_ROOT];
        const fold = (doc: Y.Doc): void => {
          this.stats.tombstonesFolded += foldTombstones(doc, roots);
        };
        if (!this.o.service.docs.reclaim(docId, fold, true)) {
          this.reclaimQueued.add(docId);
          again = docId;
          continue;
        }
        done++;
        this.stats.reclaimed++;
      } catch (err) {
        this.log.warn({ doc: docId, err: (err as Error).message }, 'reclaiming the space of forgotten episodes failed; it stays until the next compaction');
      }
    }
    if (done > 0 && this.o.store.maintain) {
      try {
        this.o.store.maintain();
        this.stats.maintenance++;
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, 'store maintenance after reclaiming failed; the periodic one retries');
      }
    }
    if (again !== undefined) this.queueReclaim(again, 20);
  }

  private wallNow(): number {
    const c = this.o.runtime.clock;
    return c.wall ? c.wall() : c.now();
  }
}
