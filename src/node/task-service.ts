// Tasks on a node: the replicated task table (a Yjs document synced like agent memory), the
// scheduler, the agent executor and the RPCs between them.
//
// Who schedules: the node a task is submitted to places it at once (so `local-first` means local
// to the submitter); lost tasks (holder FAILED or LEFT, or lease expired) are re-placed by the
// scheduling leader, the lowest-named ACTIVE member, and only while it is writable. Two nodes that
// briefly both think they lead may both reassign: execution is at-least-once by design and the
// fencing tokens keep the recorded result unique.
//
// Ordering: an assignment is a table update pushed on the member's stream before the `run`
// request on that same stream, so the executor's replica knows the token when the run arrives.
//
// Batching: every quorum write is pushed to, applied by and acknowledged by every voter, so its
// cost grows with the cluster, not with what it carries. Everything the task service writes in
// one event-loop turn (runtime/group-commit.ts afterTurn; in the simulator a zero-delay task at
// the same virtual time) is one quorum write: the submits that arrived (recorded and placed) and
// the outcomes of the runs that finished, in one task-table transaction, plus the episodes of the
// accepted outcomes. Each caller still gets its own answer (task-writes.ts).
//
// Group commit of task writes: while one of these writes waits for its majority, the next one is
// held and gathers what arrives meanwhile (as a database's group commit does), so under load a
// write carries many tasks; a held batch goes out anyway after a bound, and outcomes alone linger
// briefly for a submit to share their write (task-writes.ts).
import { ConfigError, NotFoundError, QuorumError } from '../errors.js';
import type { Logger, Runtime } from '../runtime/types.js';
import { createAgentRegistry, loadAgentModule, AgentExecutor, type AgentHandler, type AgentRegistry } from '../agents/index.js';
import { TaskTable, newTaskFromJson, validateNewTask, type SchedulerEffect, type SchedulerMember, type TaskView, type NewTask } from '../tasks/index.js';
import type { RpcEndpoint } from '../rpc/endpoint.js';
import { intField, jsonObject, stringField, toJsonPayload } from '../rpc/json.js';
import { METHODS } from '../rpc/methods.js';
import type { MemoryService } from '../memory/memory-service.js';
import { mergeTaskPages, taskPage, type TaskQuery } from '../tasks/task-page.js';
import { TaskWrites, type RunRequest } from './task-writes.js';
import { TaskShards, type Shard } from './task-shards.js';
import { parseRun, TaskShardRpc } from './task-shard-rpc.js';

export { TASKS_DOC } from './task-shards.js';
export { TASK_SHARD_PREFIX } from '../tasks/task-shard.js';
/** Re-check leases and lost tasks at least this often, besides member events and lease expiries. */
const SWEEP_MS = 1000;
/** Refusals of a report that may only mean this replica has not merged our assignment yet. */
const MAYBE_BEHIND: ReadonlySet<string> = new Set(['unknown-task', 'unknown-token', 'not-holder']);
/** First re-judge of such a report, doubling up to the max, until the lease would have run out. */
const REPORT_RETRY_MS = 20;
const REPORT_RETRY_MAX_MS = 1000;

export interface TaskServiceOptions {
  self: string;
  runtime: Runtime;
  rpc: RpcEndpoint;
  memory: MemoryService;
  slots: number;
  /** The routing view: the member directory's (isLeader keeps its result per routingVersion). */
  routing: { routingMembers(): SchedulerMember[]; readonly routingVersion: number };
  addressOf: (name: string) => string | undefined;
  writable: () => boolean;
  onFreeSlots: (free: number) => void;
  leaseMs?: number;
}

export class TaskService {
  /** The cluster-wide task table (every task with no more voters than RF; older tasks otherwise). */
  readonly table: TaskTable;
  /** Every task table held here: the cluster-wide one and the agents' shards (task-shards.ts). */
  readonly shards: TaskShards;
  private readonly remote: TaskShardRpc;
  readonly registry: AgentRegistry;
  readonly executor: AgentExecutor;
  private readonly log: Logger;
  private stopped = false;
  private tickQueued = false;
  /** The leader check as of one routingVersion (see isLeader). */
  private leaderMemo: { version: number; first: string | undefined } | undefined;
  /**
   * A task this node submitted found no free slot anywhere: it waits queued, and until a pass
   * placed it, submits take the full scheduler pass (oldest queued first) instead of the fast path.
   */
  private waiting = false;
  /** Submits and finished runs' outcomes, written per turn (task-writes.ts). */
  private readonly writes: TaskWrites;

  constructor(private readonly o: TaskServiceOptions) {
    const members = (): SchedulerMember[] => o.routing.routingMembers();
    this.log = o.runtime.logger.child({ component: 'tasks' });
    this.shards = new TaskShards({ self: o.self, runtime: o.runtime, memory: o.memory, members, leaseMs: o.leaseMs });
    this.table = this.shards.legacy.table;
    this.registry = createAgentRegistry();
    this.executor = new AgentExecutor({ node: o.self, registry: this.registry, slots: o.slots, runtime: o.runtime });
    this.executor.pool.onChange((free) => o.onFreeSlots(free));
    this.writes = new TaskWrites({
      runtime: o.runtime,
      log: this.log,
      memory: o.memory,
      members,
      writable: o.writable,
      stopped: () => this.stopped,
      waiting: () => this.waiting,
      carryOut: (e, shard) => this.carryOut(e, shard),
      current: (shard) => (shard.agent === undefined ? shard : this.shards.open(shard.docId)),
      tick: () => this.tick(),
      wallNow: () => this.wallNow(),
    });

    this.remote = new TaskShardRpc({
      self: o.self,
      rpc: o.rpc,
      log: this.log,
      shards: this.shards,
      members,
      addressOf: o.addressOf,
      submitHere: (shard, task) => this.writes.submit(shard, task),
      reportHere: (shard, run, fence, outcome, wall) => this.writes.report(shard, run, fence, outcome, wall),
      renewHere: (shard, id, fence, leaseMs) => o.memory.writeQuorum(() => shard.table.renew(id, fence, o.runtime.clock.now(), leaseMs), shard.agent === undefined ? [] : [shard.docId]),
      findHere: (id) => this.find(id),
      pageHere: (q) => this.pageHere(q),
    });
    o.rpc.handle(METHODS.taskSubmit, 'client', async (p) => toJsonPayload(await this.submit(newTaskFromJson(jsonObject(p, 'task submit arguments')))));
    o.rpc.handle(METHODS.taskGet, 'client', async (p) => toJsonPayload(await this.remote.get(stringField(jsonObject(p, 'task get arguments'), 'id', 'task get arguments'))));
    // One page, newest first: {tasks, next?} (paging.ts); with shards, merged from every live member's tables.
    o.rpc.handle(METHODS.taskList, 'client', async (p) => {
      const page = await this.remote.page(p.byteLength > 0 ? (jsonObject(p, 'task list arguments', true) as TaskQuery) : {});
      return toJsonPayload({ tasks: page.items, ...(page.next ? { next: page.next } : {}) });
    });
    o.rpc.handle(METHODS.taskRun, 'member', (p) => {
      this.startRun(parseRun(jsonObject(p, 'task run request'))); // checked field by field
      return toJsonPayload(true);
    });
    o.rpc.onNotify(METHODS.taskRevoke, 'member', (p) => {
      const r = jsonObject(p, 'task revoke');
      this.executor.abort(stringField(r, 'id', 'task revoke'), stringField(r, 'why', 'task revoke', 4096), intField(r, 'token', 'task revoke', 0, Number.MAX_SAFE_INTEGER));
    });
    this.sweep();
  }

  defineAgent(type: string, handler: AgentHandler): void {
    this.registry.defineAgent(type, handler, { replace: true });
  }

  async loadAgents(modulePath: string): Promise<string[]> {
    return loadAgentModule(this.registry, modulePath);
  }

  /**
   * Records the task and places it at once: one quorum write (QuorumError on a read-only node)
   * carrying both the task and its assignment, then the run goes to the chosen member. The write
   * is shared with every other submit and finished run of this event-loop turn (see "Batching").
   */
  submit(task: NewTask): Promise<TaskView> {
    if (typeof task !== 'object' || task === null) return Promise.reject(new ConfigError('a task needs {type, input}'));
    // A bad task is refused on its own, before it joins a batch (table.submit checks again).
    // An unknown type is still accepted (another node may define it); the node that runs it
    // without a handler fails the task with UnknownAgentTypeError's reason.
    try {
      validateNewTask(task);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    // With replica sets enforced, an agent's tasks go to its shard: written here on one of its
    // replicas, else by a live replica (its scheduler first), so the shard lives on its replica set only.
    const docId = this.shards.shardFor(task.agent ?? task.type);
    if (docId === undefined) return this.writes.submit(this.shards.legacy, task);
    if (this.shards.isReplica(docId)) return this.writes.submit(this.shards.open(docId), task);
    // A read-only node refuses at once, as it would its own write (the replica set may be on the other side).
    if (!this.o.writable()) return Promise.reject(new QuorumError(`${this.o.self} is read-only (no quorum): the task for agent ${task.agent ?? task.type} is not recorded`));
    return this.remote.forwardSubmit(docId, task);
  }

  /** A task in a table held here (the cluster-wide one or a shard of this node); NotFoundError otherwise. */
  get(id: string): TaskView {
    if (typeof id !== 'string') throw new ConfigError('task id must be a string');
    const v = this.find(id);
    if (!v) throw new NotFoundError(`no task "${id}" on this node; check the id with "tri task list"`);
    return v;
  }

  /** A task wherever it is: here, or (tasks sharded) on a live replica of its shard. */
  getAnywhere(id: string): Promise<TaskView> {
    return this.remote.get(id);
  }

  /** One page of every task, newest first: this node's tables, and with shards every live member's, merged. */
  pageAnywhere(q: TaskQuery = {}): Promise<import('../paging.js').Page<TaskView>> {
    return this.remote.page(q);
  }

  /** The tasks of every table held here, oldest submission first. */
  list(): TaskView[] {
    const all = this.shards.all();
    if (all.length === 1) return this.table.list();
    return all.flatMap((s) => s.table.list()).sort((a, b) => a.submittedAt - b.submittedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** Tasks by status in the tables held here (with shards: this node's share). */
  counts(): Record<string, number> {
    const c = this.table.counts(); // O(open tasks): /status and /metrics read it often
    for (const s of this.shards.all()) {
      if (s.agent === undefined) continue;
      const k = s.table.counts();
      c.queued += k.queued;
      c.running += k.running;
      c.done += k.done;
      c.failed += k.failed;
    }
    return c;
  }

  /** A member changed state: the leader (and each shard's scheduler) re-places the lost tasks. */
  onMembership(): void {
    if (this.isLeader() || this.shards.sharded()) this.queueTick();
  }

  /** Whether this node should hold the tasks of `agent` submitted now: always without shards, else when it is a replica of the agent. */
  holdsTasksOf(agent: string): boolean {
    const docId = this.shards.shardFor(agent);
    return docId === undefined || this.shards.isReplica(docId);
  }

  /** A task in one of the tables held here, or undefined. */
  find(id: string): TaskView | undefined {
    for (const s of this.shards.all()) {
      const v = s.table.get(id);
      if (v) return v;
    }
    return undefined;
  }

  /** One page of the tables held here, merged. */
  private pageHere(q: TaskQuery): import('../paging.js').Page<TaskView> {
    const all = this.shards.all();
    if (all.length === 1) return taskPage(this.table, q);
    return mergeTaskPages(all.map((s) => taskPage(s.table, q)), q);
  }

  stop(): void {
    this.stopped = true;
    this.executor.stop();
  }

  /** Whether this node is the scheduling leader now (writable, first ACTIVE name): retention trims there. */
  leads(): boolean {
    return this.isLeader();
  }

  private isLeader(): boolean {
    // The ACTIVE member whose name sorts first, and writable. The scan runs once per change of
    // the routing view (its version), not once per node per second; and only that one member
    // asks the gate (its verdict costs O(N) after a change).
    const version = this.o.routing.routingVersion;
    if (this.leaderMemo?.version !== version) {
      let first: string | undefined;
      for (const m of this.o.routing.routingMembers()) if (m.state === 'ACTIVE' && (first === undefined || m.name < first)) first = m.name;
      this.leaderMemo = { version, first };
    }
    return this.leaderMemo.first === this.o.self && this.o.writable();
  }

  private sweep(): void {
    this.o.runtime.scheduler.schedule(SWEEP_MS, () => {
      if (this.stopped) return;
      this.tick(true);
      this.sweep();
    });
  }

  private queueTick(): void {
    if (this.tickQueued) return;
    this.tickQueued = true;
    queueMicrotask(() => {
      this.tickQueued = false;
      if (!this.stopped) this.tick();
    });
  }

  /**
   * One scheduler pass on this node; only a writable node assigns. The tables it schedules (the
   * cluster-wide one as leader, each shard as its first live replica) get a full pass; the others
   * only when tasks submitted here wait for capacity (their submitter places them), and never on
   * the periodic `sweep`.
   */
  private tick(sweep = false): void {
    if (this.stopped || !this.o.writable()) return;
    const now = this.o.runtime.clock.now();
    const leader = this.isLeader();
    const waiting = this.waiting;
    this.waiting = false;
    let wake: number | null = null;
    for (const shard of this.shards.all()) {
      // A table with every task finished has nothing to place, re-place or time: skipped before
      // asking who schedules it (the sweep then costs O(tables with open tasks), not O(tables held)).
      if (!shard.scheduler.hasWork(shard.table)) continue;
      const lead = this.shards.schedules(shard, leader);
      if (!lead && (sweep || !waiting)) continue;
      // Only the submitter places its new task at once; the scheduler adopts others' still queued.
      const { effects, wakeAt } = shard.scheduler.tick(shard.table, this.o.routing.routingMembers(), now, () => this.o.runtime.rng.next(), this.wallNow(), { leader: lead });
      for (const e of effects) this.carryOut(e, shard);
      if (wakeAt !== null && lead && (wake === null || wakeAt < wake)) wake = wakeAt;
    }
    if (wake !== null) this.o.runtime.scheduler.schedule(Math.max(0, wake - now) + 1, () => this.queueTick());
  }

  private carryOut(e: SchedulerEffect, shard: Shard): void {
    switch (e.type) {
      case 'run': {
        const req: RunRequest = { ...e.task, token: e.token, leaseMs: e.leaseMs, ...(shard.agent !== undefined ? { shard: shard.docId } : {}) };
        this.log.info({ task: e.task.id, type: e.task.type, node: e.node, token: e.token, attempt: e.attempt }, 'task assigned');
        if (e.node === this.o.self) {
          this.startRun(req);
          break;
        }
        const to = this.o.addressOf(e.node);
        if (!to) break; // the lease expires and the task is re-placed
        this.o.rpc.call(to, METHODS.taskRun, toJsonPayload(req), 10_000).catch((err: Error) => this.log.info({ task: e.task.id, node: e.node, err: err.message }, 'could not hand the task over; it is re-placed when its lease expires'));
        break;
      }
      case 'revoke': {
        const to = this.o.addressOf(e.node);
        if (e.node === this.o.self) this.executor.abort(e.id, e.why, e.token);
        else if (to) this.o.rpc.notify(to, METHODS.taskRevoke, toJsonPayload({ id: e.id, token: e.token, why: e.why })).catch(() => undefined);
        break;
      }
      case 'failed':
        this.log.warn({ task: e.id, reason: e.reason }, 'task failed');
        break;
      case 'wait':
        this.waiting = true;
        this.log.debug({ task: e.id, reason: e.reason, detail: e.detail }, 'task waits for capacity');
        break;
    }
  }

  /** Runs an assigned task here: renews its lease while it runs, records the outcome and an episode. */
  private startRun(r: RunRequest): void {
    const fence = { token: r.token, holder: this.o.self };
    const renewEvery = Math.max(50, Math.floor(r.leaseMs / 3));
    let running = true;
    const renew = () => {
      if (!running || this.stopped) return;
      this.remote
        .renew(r, fence)
        .catch(() => undefined) // a lost renewal only risks a duplicate run; fencing keeps one result
        .finally(() => {
          if (running) cancelRenew = this.o.runtime.scheduler.schedule(renewEvery, renew);
        });
    };
    // Cancelled when the run ends: a short task leaves no timer behind for the rest of its lease.
    let cancelRenew = this.o.runtime.scheduler.schedule(renewEvery, renew);
    void this.executor.execute({ taskId: r.id, type: r.type, agentId: r.agent, input: r.input, token: r.token }).then(async (outcome) => {
      running = false;
      cancelRenew();
      if (this.stopped) return;
      if (this.waiting) this.queueTick(); // a slot came free here: place what waits for one
      const wall = this.wallNow();
      try {
        // The outcome and the agent's episode go in one quorum write (shared with the other
        // runs that finished this turn); the episode is written only when the outcome is
        // accepted, so a fenced-off or duplicate run leaves no episode behind.
        const record = () => this.remote.report(r, fence, outcome, wall); // here, or on a replica of its shard
        let verdict = await record();
        // The run request can arrive before this replica merged the assignment that names us
        // (e.g. it depends on the submitter's update, still in flight from a third node): then
        // the report is refused as unknown / not ours. Dropping it would leave the task running
        // until its lease ran out, and after maxAttempts such losses fail it. Re-judge while
        // the replica catches up (a refused report writes nothing, so a retry costs no quorum
        // round), until the lease would have run out anyway.
        const until = this.o.runtime.clock.now() + r.leaseMs;
        for (let wait = REPORT_RETRY_MS; !verdict.accepted && MAYBE_BEHIND.has(verdict.reason) && !this.stopped && this.o.runtime.clock.now() + wait < until; wait = Math.min(wait * 2, REPORT_RETRY_MAX_MS)) {
          await new Promise<void>((res) => this.o.runtime.scheduler.schedule(wait, res));
          verdict = await record();
        }
        if (!verdict.accepted) {
          this.log.info({ task: r.id, token: r.token, reason: verdict.reason }, 'outcome not recorded (fenced off or already recorded)');
          return;
        }
      } catch (err) {
        this.log.warn({ task: r.id, err: (err as Error).message }, 'could not record the task outcome with a majority; its lease will expire and it will be reassigned');
      }
    });
  }

  private wallNow(): number {
    const c = this.o.runtime.clock;
    return c.wall ? c.wall() : c.now();
  }
}
