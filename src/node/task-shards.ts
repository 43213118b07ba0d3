// The task tables a node holds: the cluster-wide table ('tasks', on every node, as before replica
// sets) and, with replica sets enforced, one shard per agent ('tasks/<agent>') on the agent's
// replica set (src/tasks/task-shard.ts). Each table has its own scheduler (the round-robin cursor
// and the "queued since" clocks are per table). Who schedules what:
//   - the cluster-wide table: the scheduling leader (lowest-named ACTIVE member), as before;
//   - a shard: its first live replica (rendezvous order); when it fails the next one takes over.
// A shard's table object is rebuilt when its document was dropped (handoff) and made again.
import type { Runtime } from '../runtime/types.js';
import { TaskScheduler, TaskTable, type SchedulerMember } from '../tasks/index.js';
import { shardAgent, shardDocId, shardScheduler } from '../tasks/task-shard.js';
import type { MemoryService } from '../memory/memory-service.js';

/** The cluster-wide task table's document. */
export const TASKS_DOC = 'tasks';

export interface Shard {
  /** 'tasks' or 'tasks/<agent>'. */
  docId: string;
  /** The agent of a shard; undefined for the cluster-wide table. */
  agent: string | undefined;
  table: TaskTable;
  scheduler: TaskScheduler;
}

export interface TaskShardsOptions {
  self: string;
  runtime: Runtime;
  memory: MemoryService;
  members: () => SchedulerMember[];
  leaseMs?: number;
}

export class TaskShards {
  readonly legacy: Shard;
  private readonly shards = new Map<string, Shard>();

  /** Ids of the shard documents this node may hold: from storage at start, then each one made here (checked against the store on read). */
  private readonly known = new Set<string>();
  /** Told of every table opened (retention attaches its retired-id records to each). */
  private readonly tableListeners: Array<(table: TaskTable, docId: string) => void> = [];

  constructor(private readonly o: TaskShardsOptions) {
    this.legacy = { docId: TASKS_DOC, agent: undefined, table: this.newTable(TASKS_DOC), scheduler: new TaskScheduler({ self: o.self, leaseMs: o.leaseMs }) };
    for (const id of o.memory.docs.ids()) if (isShardDoc(id)) this.known.add(id);
    o.memory.docs.onDocCreated((id) => {
      if (isShardDoc(id)) this.known.add(id);
    });
  }

  /** Whether new tasks go to per-agent shards: replica sets are enforced (more voters than RF). */
  sharded(): boolean {
    return this.o.memory.replicas.view.current().enforced;
  }

  /** The shard document of `agent`'s tasks when tasks are sharded and the id can name one; else undefined (the cluster-wide table). */
  shardFor(agent: string): string | undefined {
    return this.sharded() ? shardDocId(agent) : undefined;
  }

  /** The replica set of a shard document on the committed configuration (undefined: unplaced). */
  replicasOf(docId: string): readonly string[] | undefined {
    return this.o.memory.replicas.view.current().replicasOf(docId);
  }

  /** Whether this node should hold `docId` (a replica of its agent, or an unplaced table). */
  isReplica(docId: string): boolean {
    return this.o.memory.replicas.view.current().isReplica(docId);
  }

  /** The ACTIVE replicas of a shard in rendezvous order: its scheduler first, then who takes over. */
  liveReplicas(docId: string): string[] {
    const set = this.replicasOf(docId) ?? [];
    const live = new Set(this.o.members().filter((m) => m.state === 'ACTIVE').map((m) => m.name));
    return set.filter((n) => live.has(n));
  }

  /** Whether this node schedules `shard` now (adopts its queued tasks, re-places its lost ones). */
  schedules(shard: Shard, leader: boolean): boolean {
    if (shard.agent === undefined) return leader;
    const set = this.replicasOf(shard.docId);
    if (!set) return leader; // sharding switched off again (voters <= RF): the leader schedules every table
    const live = new Set(this.o.members().filter((m) => m.state === 'ACTIVE').map((m) => m.name));
    return shardScheduler(set, (n) => live.has(n)) === this.o.self;
  }

  /** The table of `docId` ('tasks' or a shard), opened (and its document made) if need be. */
  open(docId: string): Shard {
    if (docId === TASKS_DOC) return this.legacy;
    const agent = shardAgent(docId);
    if (agent === undefined || shardDocId(agent) !== docId) throw new Error(`not a task table document: ${docId}`);
    const doc = this.o.memory.docs.doc(docId);
    this.known.add(docId);
    let s = this.shards.get(docId);
    if (!s || s.table.doc !== doc) {
      const table = new TaskTable({ node: this.o.self, random: () => this.o.runtime.rng.next(), doc });
      for (const l of this.tableListeners) l(table, docId);
      s = { docId, agent, table, scheduler: new TaskScheduler({ self: this.o.self, leaseMs: this.o.leaseMs, replicas: () => this.replicaNames(docId) }) };
      this.shards.set(docId, s);
    }
    return s;
  }

  /** Calls `cb` with every table open now (the cluster-wide one included) and each one opened later. */
  onTable(cb: (table: TaskTable, docId: string) => void): void {
    this.tableListeners.push(cb);
    cb(this.legacy.table, this.legacy.docId);
    for (const s of this.shards.values()) cb(s.table, s.docId);
  }

  /** The table of `docId` if this node holds it (never makes a document). */
  held(docId: string): Shard | undefined {
    if (docId === TASKS_DOC) return this.legacy;
    return this.o.memory.docs.has(docId) ? this.open(docId) : undefined;
  }

  /** Every task table this node holds: the cluster-wide one first, then its shards. */
  all(): Shard[] {
    const out: Shard[] = [this.legacy];
    for (const id of this.known) {
      if (this.o.memory.docs.has(id)) out.push(this.open(id));
      else {
        this.known.delete(id); // dropped by handoff
        this.shards.delete(id);
      }
    }
    return out;
  }

  private replicaNames(docId: string): ReadonlySet<string> | undefined {
    const set = this.replicasOf(docId);
    return set ? new Set(set) : undefined;
  }

  private newTable(docId: string): TaskTable {
    return new TaskTable({ node: this.o.self, random: () => this.o.runtime.rng.next(), doc: this.o.memory.docs.doc(docId) });
  }
}

function isShardDoc(id: string): boolean {
  const agent = shardAgent(id);
  return agent !== undefined && shardDocId(agent) === id;
}
