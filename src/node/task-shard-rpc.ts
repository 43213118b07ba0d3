// Tasks sharded with their agents, across nodes (task-shards.ts, docs/tasks.md "Sharded tasks"):
// a node that holds no copy of an agent's task shard never makes one. It forwards a submit to the
// shard's scheduler (its first live replica), sends a run's renewals and outcome to a live replica
// (the scheduler first, then the others), and answers `tri task get/list` by asking the live
// members for what they hold (one page each, merged: bounded by members x page).
import { isJson, type Json } from '../../crdt/json.js';
import { DecodeError, NotFoundError, QuorumError, TransportError } from '../errors.js';
import type { AgentOutcome } from '../agents/index.js';
import type { Logger } from '../runtime/types.js';
import type { RpcEndpoint } from '../rpc/endpoint.js';
import { fromJsonPayload, intField, jsonObject, stringField, toJsonPayload } from '../rpc/json.js';
import { METHODS } from '../rpc/methods.js';
import { newTaskFromJson, type Fence, type NewTask, type SchedulerMember, type TaskView, type Verdict } from '../tasks/index.js';
import { mergeTaskPages, type TaskQuery } from '../tasks/task-page.js';
import type { Page } from '../paging.js';
import type { RunRequest } from './task-writes.js';
import { TASKS_DOC, type Shard, type TaskShards } from './task-shards.js';

/** Longest a forwarded submit or outcome waits: a quorum write (5 s by default) and a hop. */
const FORWARD_TIMEOUT_MS = 15_000;
/** Longest a member's share of a get or a list may take; a member that does not answer is left out. */
const ASK_TIMEOUT_MS = 3_000;

export interface TaskShardRpcOptions {
  self: string;
  rpc: RpcEndpoint;
  log: Logger;
  shards: TaskShards;
  members: () => SchedulerMember[];
  addressOf: (name: string) => string | undefined;
  submitHere: (shard: Shard, task: NewTask) => Promise<TaskView>;
  reportHere: (shard: Shard, run: RunRequest, fence: Fence, outcome: AgentOutcome, wall: number) => Promise<Verdict>;
  renewHere: (shard: Shard, id: string, fence: Fence, leaseMs: number) => Promise<Verdict>;
  findHere: (id: string) => TaskView | undefined;
  pageHere: (q: TaskQuery) => Page<TaskView>;
}

export class TaskShardRpc {
  constructor(private readonly o: TaskShardRpcOptions) {
    const { rpc } = o;
    rpc.handle(METHODS.taskShardSubmit, 'member', async (p) => {
      const r = jsonObject(p, 'task shard submit');
      const docId = stringField(r, 'shard', 'task shard submit');
      // Written here even if this node is no longer a replica (a configuration change since the
      // sender looked): never forwarded twice, and handoff gives the copy to the replicas.
      return toJsonPayload(await o.submitHere(this.shardOf(docId), newTaskFromJson(jsonObject(toJsonPayload(r.task), 'task'))));
    });
    rpc.handle(METHODS.taskReport, 'member', async (p) => {
      const r = jsonObject(p, 'task report');
      const run = parseRun(r.run, 'task report run');
      const fence = { token: run.token, holder: stringField(r, 'holder', 'task report') };
      const shard = this.shardOf(run.shard ?? TASKS_DOC);
      if (r.kind === 'renew') return toJsonPayload(await o.renewHere(shard, run.id, fence, run.leaseMs));
      return toJsonPayload(await o.reportHere(shard, run, fence, parseOutcome(r.outcome), intField(r, 'wall', 'task report', 0, Number.MAX_SAFE_INTEGER)));
    });
    rpc.handle(METHODS.taskFind, 'member', (p) => toJsonPayload(o.findHere(stringField(jsonObject(p, 'task find'), 'id', 'task find')) ?? null));
    rpc.handle(METHODS.taskPageHere, 'member', (p) => toJsonPayload(o.pageHere(jsonObject(p, 'task page', true) as TaskQuery)));
  }

  /** A submit for a shard this node does not hold: written by the shard's scheduler (one target: a retry elsewhere could record it twice). */
  async forwardSubmit(docId: string, task: NewTask): Promise<TaskView> {
    const to = this.o.shards.liveReplicas(docId)[0];
    const addr = to === undefined ? undefined : this.o.addressOf(to);
    if (to === undefined || addr === undefined) {
      const set = this.o.shards.replicasOf(docId) ?? [];
      throw new QuorumError(`no live replica of ${docId} (${set.join(', ')}) to record the task; ${QuorumError.replicaSet(set)}`, { reachable: 0, voters: set.length, replicas: [...set] });
    }
    const bytes = await this.o.rpc.call(addr, METHODS.taskShardSubmit, toJsonPayload({ shard: docId, task }), FORWARD_TIMEOUT_MS);
    return fromJsonPayload(bytes, 'task shard submit answer') as TaskView;
  }

  /** Records a finished run's outcome: here when this node holds the task's table, else on a live replica of its shard. */
  report(run: RunRequest, fence: Fence, outcome: AgentOutcome, wall: number): Promise<Verdict> {
    const here = this.heldHere(run);
    if (here) return this.o.reportHere(here, run, fence, outcome, wall);
    return this.toReplica(run, { kind: 'outcome', run, holder: fence.holder, outcome, wall: Math.round(wall) });
  }

  /** Renews a run's lease, where report() would record its outcome. */
  renew(run: RunRequest, fence: Fence): Promise<Verdict> {
    const here = this.heldHere(run);
    if (here) return this.o.renewHere(here, run.id, fence, run.leaseMs);
    return this.toReplica(run, { kind: 'renew', run, holder: fence.holder });
  }

  /** A task by id: here, else (tasks sharded) from the first live member that holds it. */
  async get(id: string): Promise<TaskView> {
    const here = this.o.findHere(id);
    if (here) return here;
    if (this.o.shards.sharded()) {
      const others = this.others();
      const found = await Promise.all(others.map(async (addr) => this.ask(addr, METHODS.taskFind, { id }).catch(() => null)));
      const hit = found.find((v): v is TaskView => typeof v === 'object' && v !== null);
      if (hit) return hit;
    }
    throw new NotFoundError(`no task "${id}" on this node${this.o.shards.sharded() ? ' or on the live members' : ''}; check the id with "tri task list"`);
  }

  /** One page of every task table: this node's alone without shards, else merged with each live member's (a member that does not answer is left out). */
  async page(q: TaskQuery): Promise<Page<TaskView>> {
    const mine = this.o.pageHere(q);
    if (!this.o.shards.sharded()) return mine;
    const theirs = await Promise.all(this.others().map((addr) => this.ask(addr, METHODS.taskPageHere, q).catch(() => undefined)));
    const pages = [mine, ...theirs.filter((p): p is Page<TaskView> => typeof p === 'object' && p !== null && Array.isArray((p as Page<TaskView>).items))];
    return mergeTaskPages(pages, q);
  }

  private heldHere(run: RunRequest): Shard | undefined {
    const docId = run.shard ?? TASKS_DOC;
    return docId === TASKS_DOC || this.o.shards.isReplica(docId) ? this.o.shards.open(docId) : this.o.shards.held(docId);
  }

  /** Sends a report to the shard's live replicas in order until one answers (a report is idempotent under its fence). */
  private async toReplica(run: RunRequest, body: Record<string, unknown>): Promise<Verdict> {
    let last: Error = new QuorumError(`no live replica of ${run.shard} to record task ${run.id}`);
    for (const name of this.o.shards.liveReplicas(run.shard!)) {
      const addr = this.o.addressOf(name);
      if (name === this.o.self || addr === undefined) continue;
      try {
        return (await this.ask(addr, METHODS.taskReport, body, FORWARD_TIMEOUT_MS)) as Verdict;
      } catch (err) {
        last = err as Error;
        if (!(err instanceof TransportError)) throw err;
      }
    }
    throw last;
  }

  private async ask(addr: string, method: string, body: unknown, timeoutMs = ASK_TIMEOUT_MS): Promise<unknown> {
    return fromJsonPayload(await this.o.rpc.call(addr, method, toJsonPayload(body), timeoutMs), `${method} answer`);
  }

  /** Addresses of the other members that may hold task tables (ACTIVE, or DEGRADED: read-only but holding). */
  private others(): string[] {
    const out: string[] = [];
    for (const m of this.o.members()) {
      if (m.name === this.o.self || (m.state !== 'ACTIVE' && m.state !== 'DEGRADED')) continue;
      const a = this.o.addressOf(m.name);
      if (a !== undefined) out.push(a);
    }
    return out;
  }

  private shardOf(docId: string): Shard {
    try {
      return this.o.shards.open(docId);
    } catch {
      throw new DecodeError(`"${docId}" is not a task table`);
    }
  }
}

/** A run request (task.run, or the run a task.report names), checked field by field. */
export function parseRun(v: unknown, what = 'task run request'): RunRequest {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new DecodeError(`${what}: not an object`);
  const r = v as Record<string, unknown>;
  if (!isJson(r.input as Json)) throw new DecodeError(`${what}: the input is not JSON`);
  return {
    id: stringField(r, 'id', what),
    type: stringField(r, 'type', what),
    agent: stringField(r, 'agent', what),
    input: r.input as Json,
    token: intField(r, 'token', what, 0, Number.MAX_SAFE_INTEGER),
    leaseMs: intField(r, 'leaseMs', what, 1, 24 * 3600_000),
    ...(r.shard !== undefined ? { shard: stringField(r, 'shard', what) } : {}),
  };
}

function parseOutcome(v: unknown): AgentOutcome {
  const what = 'task report outcome';
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new DecodeError(`${what}: not an object`);
  const o = v as Record<string, unknown>;
  const durationMs = typeof o.durationMs === 'number' && Number.isFinite(o.durationMs) && o.durationMs >= 0 ? o.durationMs : 0;
  if (o.ok === true && isJson(o.result as Json)) return { ok: true, result: o.result as Json, durationMs };
  if (o.ok === false && typeof o.error === 'string') return { ok: false, error: o.error, durationMs };
  throw new DecodeError(`${what}: needs {ok: true, result} or {ok: false, error}`);
}
