// Retention on a node: the memory side (policies, forgetting, reclaiming space) and the task
// side (finished tasks trimmed from the table), wired to the node's services in one place so the
// node itself only creates and stops it.
import type { Runtime, Logger } from '../runtime/types.js';
import type { MemoryService } from '../memory/memory-service.js';
import { MemoryRetention } from '../memory/retention.js';
import { applyTrim, planTrim, RetiredIds, taskRetentionPolicy, type TaskRetentionPolicy } from '../tasks/task-retention.js';
import type { TaskService } from './task-service.js';
import type { NodeStore } from '../storage/types.js';
import type { IndexMaintenance } from '../recall/recall-maintenance.js';

export interface RetentionOptions {
  /** Finished tasks leave the table this long after they finished (default 1 h). */
  taskRetentionMs?: number;
  /** At most this many finished tasks stay in the table (default 10,000). */
  maxFinishedTasks?: number;
  /** Ids chosen by submitters stay refused this long after their task was trimmed (default 7 days). */
  taskDedupMs?: number;
  /** How often agents' memory policies are applied (default 30 s). */
  policySweepMs?: number;
}

/** How often the leader looks for tasks to trim, at most (and at least every second). */
const TASK_SWEEP_MAX_MS = 60_000;
/**
 * How often the store checkpoints its write-ahead log and hands free pages back (SqliteStore.maintain),
 * and the recall index merges its FTS5 segments and does the same (recall-maintenance.ts).
 */
const MAINTAIN_MS = 5 * 60_000;
const EVICT_EVERY_MS = 1000;

export class NodeRetention {
  readonly memory: MemoryRetention;
  /** Ids trimmed from each task table (the cluster-wide one and each task shard held here), by document. */
  private readonly retired = new Map<string, RetiredIds>();
  readonly policy: TaskRetentionPolicy;
  private readonly log: Logger;
  private cancel: (() => void) | undefined;
  private cancelMaintain: (() => void) | undefined;
  private cancelEvict: (() => void) | undefined;
  /** Agent documents unloaded since start (bounded residency). */
  evicted = 0;
  private stopped = false;
  private trimming = false;
  /** Finished tasks this node trimmed from the table. */
  trimmed = 0;
  /** Passes of the recall index's maintenance, and what the last one did (on /status). */
  private recallMaintenance: { passes: number; last?: IndexMaintenance } = { passes: 0 };

  constructor(
    /** `writable`: whether this node sweeps memory policies now (the node passes: it is the scheduling leader). */
    private readonly o: { runtime: Runtime; memory: MemoryService; tasks: TaskService; store: NodeStore; recall?: { maintain(): IndexMaintenance | undefined }; writable: () => boolean; options?: RetentionOptions },
  ) {
    this.log = o.runtime.logger.child({ component: 'retention' });
    this.memory = new MemoryRetention({ service: o.memory, store: o.store, runtime: o.runtime, writable: o.writable, sweepMs: o.options?.policySweepMs });
    o.tasks.shards.onTable((t, docId) => this.retired.set(docId, new RetiredIds(t)));
    this.policy = taskRetentionPolicy({ retentionMs: o.options?.taskRetentionMs, maxFinished: o.options?.maxFinishedTasks, dedupMs: o.options?.taskDedupMs });
    this.arm();
    this.armEviction();
    if (o.store.maintain || o.recall) this.armMaintain();
  }

  private armMaintain(): void {
    this.cancelMaintain = this.o.runtime.scheduler.schedule(MAINTAIN_MS, () => {
      if (this.stopped) return;
      this.maintain();
      this.armMaintain();
    });
  }

  /** The periodic maintenance of the store and of the recall index (each failure logged, retried next period). */
  maintain(): void {
    try {
      this.o.store.maintain?.();
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'store maintenance (checkpoint, vacuum) failed');
    }
    try {
      const last = this.o.recall?.maintain();
      if (last) this.recallMaintenance = { passes: this.recallMaintenance.passes + 1, last };
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'recall index maintenance (merge, vacuum) failed');
    }
  }

  /**
   * Trims what the policy says now from each task table this node schedules (the cluster-wide one
   * as the scheduling leader, a task shard as its first live replica: the policy applies per
   * shard there); resolves how many tasks went.
   */
  async trimTasks(): Promise<number> {
    if (this.trimming || this.stopped) return 0;
    this.trimming = true;
    let n = 0;
    try {
      const leader = this.o.tasks.leads();
      for (const shard of this.o.tasks.shards.all()) {
        if (!this.o.tasks.shards.schedules(shard, leader) || this.stopped) continue;
        const now = this.wallNow();
        const plan = planTrim(shard.table, this.policy, now);
        if (plan.trim.length === 0 && plan.expired.length === 0) continue;
        await this.o.memory.writeQuorum(() => applyTrim(shard.table, plan, now), shard.agent === undefined ? [] : [shard.docId]);
        this.trimmed += plan.trim.length;
        n += plan.trim.length;
      }
      return n;
    } catch (err) {
      this.log.info({ err: (err as Error).message }, 'trimming finished tasks failed; retrying at the next sweep');
      return n;
    } finally {
      this.trimming = false;
    }
  }

  status(): Record<string, unknown> {
    return {
      tasks: { retentionMs: this.policy.retentionMs, maxFinished: this.policy.maxFinished, dedupMs: this.policy.dedupMs, trimmed: this.trimmed, retiredIds: [...this.retired.values()].reduce((a, r) => a + r.count(), 0) },
      memory: { policies: this.memory.policies(), ...this.memory.stats },
      recallIndex: this.recallMaintenance,
    };
  }

  stop(): void {
    this.stopped = true;
    this.cancel?.();
    this.cancelMaintain?.();
    this.cancelEvict?.();
    this.memory.stop();
  }

  /** Unloads idle agent documents beyond the memory budget, every second (storage/residency.ts). */
  private armEviction(): void {
    this.cancelEvict = this.o.runtime.scheduler.schedule(EVICT_EVERY_MS, () => {
      if (this.stopped) return;
      try {
        this.evicted += this.o.memory.docs.evictIdle();
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, 'unloading idle documents failed');
      }
      this.armEviction();
    });
  }

  private arm(): void {
    if (this.stopped) return;
    const every = Math.min(TASK_SWEEP_MAX_MS, Math.max(1000, Math.floor(this.policy.retentionMs / 4)));
    this.cancel = this.o.runtime.scheduler.schedule(every, () => {
      void this.trimTasks().finally(() => this.arm());
    });
  }

  private wallNow(): number {
    const c = this.o.runtime.clock;
    return c.wall ? c.wall() : c.now();
  }
}
