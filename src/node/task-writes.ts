// The task service's writes (see task-service.ts "Batching" and "Group commit"): submits and
// finished runs' outcomes gathered per event-loop turn into one quorum write, held while the
// previous write waits for its majority (HOLD_MAX_MS at most), outcomes alone lingering
// REPORT_LINGER_MS for a submit to share their write. Each caller still gets its own answer.
import type { Json } from '../../crdt/index.js';
import { NodeStoppedError, WriteTimeoutError } from '../errors.js';
import type { Logger, Runtime } from '../runtime/types.js';
import { afterTurn } from '../runtime/group-commit.js';
import type { AgentOutcome } from '../agents/index.js';
import type { Candidate, Fence, NewTask, SchedulerEffect, SchedulerMember, TaskView, Verdict } from '../tasks/index.js';
import type { Shard } from './task-shards.js';
import type { MemoryService } from '../memory/memory-service.js';
import { taskEpisodeId } from '../tasks/task-episode.js';

/** Longest a batch waits for the write in flight before it is written alongside. */
const HOLD_MAX_MS = 250;
/** Longest a batch of outcomes alone waits for a submit to share its write. */
const REPORT_LINGER_MS = 20;

/** A task hand-over from the leader (parsed in task-service.ts). */
export interface RunRequest {
  id: string;
  type: string;
  agent: string;
  input: Json;
  token: number;
  leaseMs: number;
  /** The task's table when it is an agent's shard ('tasks/<agent>'); absent: the cluster-wide table. */
  shard?: string;
}

/** A submit waiting for its turn's write. */
interface SubmitWaiter {
  shard: Shard;
  task: NewTask;
  resolve: (v: TaskView) => void;
  reject: (e: Error) => void;
}

/** What the next write carries; `queued` once its flush is scheduled. */
interface Turn {
  submits: SubmitWaiter[];
  reports: ReportWaiter[];
  queued: boolean;
  /** Armed by arm(): holding for the write in flight, or lingering for a submit. */
  timer: { kind: 'hold' | 'linger'; cancel: () => void } | undefined;
}

/** A finished run's outcome waiting for its turn's write. */
interface ReportWaiter {
  shard: Shard;
  run: RunRequest;
  fence: Fence;
  outcome: AgentOutcome;
  wall: number;
  resolve: (v: Verdict) => void;
  reject: (e: Error) => void;
}

/** What the writes read of the task service. */
export interface TaskWritesHost {
  runtime: Runtime;
  log: Logger;
  memory: MemoryService;
  members: () => SchedulerMember[];
  writable: () => boolean;
  stopped: () => boolean;
  /** Older tasks of ours wait for capacity: new ones go through a full pass after the write. */
  waiting: () => boolean;
  carryOut: (e: SchedulerEffect, shard: Shard) => void;
  /** The shard of the same document as held now: remade when a move dropped its document (and made it again). */
  current: (shard: Shard) => Shard;
  tick: () => void;
  wallNow: () => number;
}

export class TaskWrites {
  /** Submits and outcome reports gathered for the next write (undefined: none gathering). */
  private turn: Turn | undefined;
  /** Turn writes sent and not yet settled. */
  private inFlight = 0;
  private readonly afterTurn: (fn: () => void) => void;

  constructor(private readonly h: TaskWritesHost) {
    this.afterTurn = afterTurn(h.runtime.scheduler);
  }

  /** Queues a (validated) submit for this turn's write; resolves with the task's record. */
  submit(shard: Shard, task: NewTask): Promise<TaskView> {
    return new Promise<TaskView>((resolve, reject) => {
      const turn = this.thisTurn();
      turn.submits.push({ shard, task, resolve, reject });
      this.arm(turn);
    });
  }

  /** Queues a finished run's outcome for this turn's write; resolves with its verdict. */
  report(shard: Shard, run: RunRequest, fence: Fence, outcome: AgentOutcome, wall: number): Promise<Verdict> {
    return new Promise<Verdict>((resolve, reject) => {
      const turn = this.thisTurn();
      turn.reports.push({ shard, run, fence, outcome, wall, resolve, reject });
      this.arm(turn);
    });
  }

  /** The batch gathering for the next write (see arm() for when it is written). */
  private thisTurn(): Turn {
    return (this.turn ??= { submits: [], reports: [], queued: false, timer: undefined });
  }

  /**
   * Decides when `turn` is written: at the end of this event-loop turn if it carries a submit and
   * no write is in flight; otherwise when the write in flight settles (at most HOLD_MAX_MS), or,
   * outcomes alone, after REPORT_LINGER_MS unless a submit comes first.
   */
  private arm(turn: Turn): void {
    if (turn.queued) return;
    if (this.inFlight === 0 && turn.submits.length > 0) return this.queueFlush(turn);
    const kind = this.inFlight > 0 ? 'hold' : 'linger';
    if (turn.timer?.kind === kind) return;
    turn.timer?.cancel();
    turn.timer = { kind, cancel: this.h.runtime.scheduler.schedule(kind === 'hold' ? HOLD_MAX_MS : REPORT_LINGER_MS, () => this.queueFlush(turn)) };
  }

  /** Writes `turn` once the current event-loop turn is over (once: later calls do nothing). */
  private queueFlush(turn: Turn): void {
    if (turn.queued) return;
    turn.queued = true;
    turn.timer?.cancel();
    this.afterTurn(() => {
      if (this.turn === turn) this.turn = undefined;
      this.inFlight++;
      this.flushTurn(turn.submits, turn.reports)
        .catch((err: unknown) => {
          // Should the flush throw unexpectedly, every caller not yet answered gets that error (none is left hanging).
          const e = err instanceof Error ? err : new Error(String(err));
          this.h.log.error({ err: e.message }, 'a batch of task writes failed unexpectedly');
          for (const w of [...turn.submits, ...turn.reports]) w.reject(e); // no-op for those already settled
        })
        .finally(() => {
          this.inFlight--;
          // The batch held behind this write goes now (or lingers, outcomes alone).
          if (this.turn) this.arm(this.turn);
        });
    });
  }

  /**
   * The turn's one quorum write: per task table (the cluster-wide one, or an agent's shard), the
   * outcomes reported and the tasks submitted this turn in one table transaction (each new task
   * placed in it too, unless older ones wait for capacity or the node is read-only), then one
   * episode per accepted outcome, one transaction per agent document. Each document waits for
   * its own quorum (a shard and its agent's memory: the agent's replica set). A shard whose
   * replica set has no reachable majority refuses its own callers only. Each caller gets its
   * own answer (see "Batching").
   */
  private async flushTurn(allSubmits: SubmitWaiter[], allReports: ReportWaiter[]): Promise<void> {
    if (allSubmits.length === 0 && allReports.length === 0) return;
    if (this.h.stopped()) {
      for (const w of allSubmits) w.reject(new NodeStoppedError('the node stopped before the task was recorded; nothing was written'));
      for (const w of allReports) w.reject(new NodeStoppedError('the node stopped before the outcome was recorded'));
      return;
    }
    // A shard without a reachable replica majority: its callers get the QuorumError, nothing of theirs applied.
    const refused = new Map<Shard, Error>();
    for (const w of [...allSubmits, ...allReports]) {
      if (w.shard.agent === undefined || refused.has(w.shard)) continue;
      try {
        this.h.memory.replicas.assertWritable([w.shard.docId]);
      } catch (err) {
        refused.set(w.shard, err as Error);
      }
    }
    const submits = allSubmits.filter((w) => !refused.has(w.shard));
    const reports = allReports.filter((w) => !refused.has(w.shard));
    for (const w of [...allSubmits, ...allReports]) if (refused.has(w.shard)) w.reject(refused.get(w.shard)!);
    if (submits.length === 0 && reports.length === 0) return;
    const shards = [...new Set([...reports.map((w) => w.shard), ...submits.map((w) => w.shard)])];
    // Per submitter: its task id, or the error that refused only its task (an id already taken).
    const ids = new Map<SubmitWaiter, string | Error>();
    // The tables written: a write may wait for admission while a move drops a shard's document and
    // makes it again; a write into the dropped one would change nothing stored and resolve at once.
    const written = new Map(shards.map((s) => [s, s]));
    const answer = (err?: Error): void => {
      for (const w of submits) {
        const id = ids.get(w);
        if (id instanceof Error) w.reject(id);
        else if (err !== undefined || id === undefined) w.reject(err ?? new Error('task batch ended without an answer'));
        else {
          const v = written.get(w.shard)!.table.get(id);
          if (v) w.resolve(v);
          else w.reject(new Error(`task ${id} was recorded but is no longer in its table`));
        }
      }
    };
    // Slow path: older tasks of ours wait for capacity and go first, through a full pass after
    // the write (a read-only node refuses in writeQuorum, before anything is applied).
    const place = submits.length > 0 && !this.h.waiting() && this.h.writable();
    const now = this.h.runtime.clock.now();
    const effects: Array<[SchedulerEffect, Shard]> = [];
    // Read before the write's transaction, where the tables' caches work; the new tasks hold no slot yet.
    // Runs that ended here and wait for this write or the next to record their outcomes hold no slot.
    const ended = new Set([...reports, ...(this.turn?.reports ?? [])].map((w) => w.run.id));
    // One candidate list for the whole batch, so each placement counts against the next whatever its table.
    const candidates: Candidate[] | undefined = place ? shards[0]!.scheduler.prepare(shards.map((s) => s.table), this.h.members(), now, ended) : undefined;
    const verdicts = new Map<ReportWaiter, Verdict>();
    try {
      await this.h.memory.writeQuorum(
        () => {
          for (const shard of shards) {
            const held = this.h.current(shard);
            written.set(shard, held);
            const table = held.table;
            table.transact(() => {
              for (const w of reports) {
                if (w.shard !== shard) continue;
                const { run, fence, outcome, wall } = w;
                verdicts.set(w, outcome.ok ? table.complete(run.id, fence, outcome.result, wall) : table.fail(run.id, fence, outcome.error, wall));
              }
              const wall = this.h.wallNow();
              const added: string[] = [];
              for (const w of submits) {
                if (w.shard !== shard) continue;
                try {
                  const id = table.submit(w.task, wall);
                  ids.set(w, id);
                  added.push(id);
                } catch (err) {
                  ids.set(w, err as Error); // refused before anything of it was written
                }
              }
              if (candidates) for (const e of held.scheduler.placeNewMany(table, added, candidates, now, () => this.h.runtime.rng.next())) effects.push([e, held]);
            });
          }
          const byAgent = new Map<string, ReportWaiter[]>();
          for (const w of reports) {
            if (!verdicts.get(w)!.accepted) continue;
            const list = byAgent.get(w.run.agent);
            if (list) list.push(w);
            else byAgent.set(w.run.agent, [w]);
          }
          for (const [agent, list] of byAgent) this.writeEpisodes(agent, list);
        },
        shards.filter((s) => s.agent !== undefined).map((s) => s.docId),
      );
    } catch (err) {
      // Not acknowledged in time: tasks and assignments stay applied here and converge later, so
      // the runs start anyway rather than waiting a whole lease for the leader to re-place them.
      if (err instanceof WriteTimeoutError && !this.h.stopped()) for (const [e, shard] of effects) this.h.carryOut(e, shard);
      answer(err as Error);
      for (const w of reports) w.reject(err as Error);
      return;
    }
    // The runs are handed out once the assignments are stored by a majority (as after a pass).
    if (!this.h.stopped()) for (const [e, shard] of effects) this.h.carryOut(e, shard);
    if (submits.length > 0 && !place) this.h.tick();
    answer();
    for (const w of reports) w.resolve(verdicts.get(w)!);
  }

  /** The episodes of one agent's accepted outcomes: one transaction (one update) on its document. */
  private writeEpisodes(agent: string, list: readonly ReportWaiter[]): void {
    try {
      const mem = this.h.memory.agentDoc(agent);
      const all = (): void => {
        for (const { run, outcome, wall } of list) {
          try {
            mem.addEpisode(
              {
                task: `${run.type} ${run.id}`,
                outcome: outcome.ok ? 'done' : 'failed',
                note: outcome.ok ? `result: ${JSON.stringify(outcome.result).slice(0, 500)}` : `error: ${outcome.error}`,
                tags: [run.type],
                fields: { taskId: run.id, durationMs: Math.round(outcome.durationMs) },
              },
              { now: Math.round(wall), id: taskEpisodeId(run.id) }, // one episode per task, also across reruns
            );
          } catch (err) {
            // A bad episode: the outcome still stands (it was validated); say why there is no episode.
            this.h.log.warn({ task: run.id, agent, err: (err as Error).message }, 'outcome recorded but the episode could not be written');
          }
        }
      };
      if (list.length === 1) all();
      else mem.doc.transact(all, mem);
    } catch (err) {
      // A bad agent id: the outcomes still stand; say why there are no episodes.
      for (const { run } of list) this.h.log.warn({ task: run.id, agent, err: (err as Error).message }, 'outcome recorded but the episode could not be written');
    }
  }
}
