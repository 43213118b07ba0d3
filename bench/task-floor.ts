// The floor of task throughput on one machine (used by `task-throughput`): what it costs one
// replica to receive, apply and durably store the replicated writes of one task, measured
// in-process on the real code path (sync engine message in, DurableDocSet over SQLite with group
// commit, ack out), with no sockets, RPC framing, TLS, gossip or scheduling in the way. Every
// finished task writes an episode to its agent's own document, so that update cannot be shared
// with other tasks' (512 agents, two tasks in flight per agent at most); the task-table updates
// can (one submit write and one outcome write per batch of tasks).
//
// The arithmetic it feeds: each task's updates are pushed to every other node (continuous sync),
// so the cluster spends at least (nodes - 1) x per-replica cost per task, and a quorum needs at
// least (majority - 1) remote voters to store them. Against `cores` CPU cores, the rate cannot
// exceed cores / (replicas x cost per replica).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentMemoryDoc } from '../crdt/index.js';
import { DurableDocSet } from '../src/storage/durable-doc-set.js';
import { MemoryStore } from '../src/storage/memory-store.js';
import { cpuUs, FloorReplica } from './lib/floor-replica.js';
import { SyncEngine } from '../src/sync/index.js';
import { TaskTable } from '../src/tasks/index.js';

export interface FloorFigures {
  /** Bytes of one episode update as task-service writes it. */
  episodeBytes: number;
  /** Bytes of the task-table updates per task (submit+assign, then the outcome), at `batch` tasks per write. */
  tableBytesPerTask: number;
  /** CPU µs for one replica to handle one episode push (decode, validate, apply, ack) and store it in a group commit. */
  episodeUs: number;
  /** The same for an episode with only its task and outcome (no note, tag or field): what the episode's own structure costs. */
  bareEpisodeUs: number;
  /**
   * The same for the episode written as one immutable value (one Yjs item under the episodes root,
   * the same JSON): the bound of a design lever, not something a node writes today.
   */
  sealedEpisodeUs: number;
  /** The same for the task-table updates of one task, at `batch` tasks per write. */
  tableUs: number;
  /** The same for the task-table updates when every write carries one task. */
  tableUnbatchedUs: number;
  /** Of episodeUs + tableUs: the SQLite group commits alone (one per `commitEvery` updates). */
  storeUs: number;
  batch: number;
  commitEvery: number;
}

const AGENTS = 512;
const NODE = 'n1';

/**
 * Produces the sync messages a submitting/executing node pushes for `tasks` echo tasks, `batch`
 * tasks per write (as task-service batches a turn's submits and outcomes), split into the
 * task-table messages and the episode messages, in the order they are sent.
 */
function produce(tasks: number, batch: number, episode: 'task' | 'bare' | 'sealed' = 'task'): { table: Uint8Array[]; episodes: Uint8Array[]; tableBytes: number; episodeBytes: number } {
  let x = 11;
  const random = (): number => ((x = (x * 16807) % 2147483647) / 2147483647);
  const docs = new DurableDocSet(new MemoryStore({ nodeId: 'floor-sender', name: NODE }));
  const engine = new SyncEngine({ docs, epoch: 1 });
  engine.addPeer('r');
  const table = new TaskTable({ node: NODE, random, doc: docs.doc('tasks') });
  const mems = new Map<string, AgentMemoryDoc>();
  const out = { table: [] as Uint8Array[], episodes: [] as Uint8Array[], tableBytes: 0, episodeBytes: 0 };
  let into: 'table' | 'episodes' = 'table';
  docs.onLocalUpdate((docId, update, origin) => {
    if (into === 'table') out.tableBytes += update.byteLength;
    else out.episodeBytes += update.byteLength;
    for (const e of engine.localUpdate(docId, update, origin)) if (e.type === 'send') out[into].push(e.bytes);
  });
  for (let first = 0; first < tasks; first += batch) {
    const n = Math.min(batch, tasks - first);
    into = 'table';
    const fences = table.transact(() =>
      Array.from({ length: n }, (_, j) => {
        const i = first + j;
        const id = table.submit({ type: 'echo', input: { i }, agent: `a${i % AGENTS}` }, i);
        return { id, token: table.assign(id, NODE, i), i };
      }),
    );
    table.transact(() => {
      for (const f of fences) table.complete(f.id, { token: f.token, holder: NODE }, { i: f.i }, f.i);
    });
    into = 'episodes';
    for (const f of fences) {
      const agent = `a${f.i % AGENTS}`;
      let mem = mems.get(agent);
      if (!mem) mems.set(agent, (mem = new AgentMemoryDoc({ node: NODE, random, agentId: agent, doc: docs.doc(`agent/${agent}`) })));
      // What task-service writes for an echo task.
      const full = { task: `echo ${f.id}`, outcome: 'done', note: `result: ${JSON.stringify({ i: f.i })}`, tags: ['echo'], fields: { taskId: f.id, durationMs: 0 } };
      if (episode === 'sealed') {
        const doc = mem.doc;
        doc.transact(() => doc.getMap('episodes').set(f.id, { ...full, node: NODE, createdAt: f.i }));
      } else mem.addEpisode(episode === 'bare' ? { task: `echo ${f.id}`, outcome: 'done' } : full, { now: f.i });
    }
  }
  return out;
}

/**
 * One replica receiving `messages` from the sender (a durable SQLite store in a temporary
 * directory, group commit every `commitEvery` messages as the node's end-of-turn commit does).
 * Returns CPU µs spent handling them and, separately, in the commits.
 */
function receive(messages: readonly Uint8Array[], commitEvery: number, dir: string): { handleUs: number; commitUs: number } {
  const replica = new FloorReplica(dir, NODE);
  try {
    let commitUs = 0;
    // The whole loop is timed once (a cpuUsage() call per message would be a tenth of what it measures); the commits apart.
    const totalUs = cpuUs(() => {
      for (let i = 0; i < messages.length; i++) {
        replica.handle(messages[i]!, i);
        if ((i + 1) % commitEvery === 0 || i === messages.length - 1) commitUs += cpuUs(() => replica.commit());
      }
    });
    if (replica.acks < messages.length) throw new Error(`floor: the replica answered ${replica.acks} of ${messages.length} pushes`);
    return { handleUs: totalUs - commitUs, commitUs };
  } finally {
    replica.close();
  }
}

/**
 * Per-replica cost of one task's replicated writes. `tasks`: how many to average over (the first
 * few hundred warm the JIT; measured twice, the second pass counts). `batch`: tasks per table write.
 */
export function measureReplicaFloor(tasks = 2_000, batch = 16, commitEvery = 32): FloorFigures {
  const root = mkdtempSync(join(tmpdir(), 'tri-floor-'));
  try {
    const batched = produce(tasks, batch);
    const single = produce(tasks, 1);
    const bare = produce(tasks, batch, 'bare');
    const sealed = produce(tasks, batch, 'sealed');
    let run = 0;
    const measure = (msgs: Uint8Array[]): { handleUs: number; commitUs: number } => receive(msgs, commitEvery, join(root, `r${run++}`));
    measure(batched.episodes); // warm-up
    measure(batched.table);
    const ep = measure(batched.episodes);
    const tb = measure(batched.table);
    const t1 = measure(single.table);
    const eb = measure(bare.episodes);
    const es = measure(sealed.episodes);
    return {
      episodeBytes: Math.round(batched.episodeBytes / tasks),
      tableBytesPerTask: Math.round(batched.tableBytes / tasks),
      episodeUs: (ep.handleUs + ep.commitUs) / tasks,
      bareEpisodeUs: (eb.handleUs + eb.commitUs) / tasks,
      sealedEpisodeUs: (es.handleUs + es.commitUs) / tasks,
      tableUs: (tb.handleUs + tb.commitUs) / tasks,
      tableUnbatchedUs: (t1.handleUs + t1.commitUs) / tasks,
      storeUs: (ep.commitUs + tb.commitUs) / tasks,
      batch,
      commitEvery,
    };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** What the floor allows: at `nodes` processes (all voters) on `cores` cores. */
export function floorArithmetic(f: FloorFigures, nodes: number, cores: number, goal: number): Record<string, number> {
  const perReplicaMs = (f.episodeUs + f.tableUs) / 1000;
  const majority = Math.floor(nodes / 2) + 1;
  const allMs = perReplicaMs * (nodes - 1);
  const quorumMs = perReplicaMs * (majority - 1);
  return {
    floor_replica_cpu_ms_per_task: perReplicaMs,
    floor_cpu_ms_per_task: allMs, // every other node stores it (continuous push to all peers)
    floor_quorum_cpu_ms_per_task: quorumMs, // only the remote voters a majority needs
    floor_max_tasks_per_sec: (cores * 1000) / allMs,
    floor_max_tasks_per_sec_quorum_only: (cores * 1000) / quorumMs,
    floor_cores_at_goal: (goal * allMs) / 1000,
  };
}
