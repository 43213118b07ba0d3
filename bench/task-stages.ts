// What one task costs end to end, stage by stage, in-process on the real classes (used by
// `task-throughput`, beside the floor of task-floor.ts): the node that takes the submit (records
// and places it in one task-table transaction, answers the submitter, records the outcome, writes
// the agent's episode), every other replica (validates and applies the task-table and episode
// updates, its TaskTable observing them as on a node) and every node (folds the episode into its
// recall index). No sockets, TLS, RPC framing, SQLite log or scheduling: what is left of a node's
// CPU per task above these stages is the sync path, RPC, storage, GC and waiting for a core.
//
// And the bound of one design lever the stages point at: the episode's 13 Yjs items (the map, its
// four plain values, four nested types, the note, the tag and two field entries) written as one
// immutable value instead: what the writer and each replica would then spend on it.
import * as Y from 'yjs';
import { AgentMemoryDoc, applyRemoteUpdate, MEMORY_SCHEMA } from '../crdt/index.js';
import { TaskScheduler, TaskTable, type SchedulerMember } from '../src/tasks/index.js';
import { TASKS_UPDATE_SCHEMA } from '../src/tasks/task-schema.js';
import { RecallIndex } from '../src/recall/recall-index.js';
import { readEpisode } from '../src/recall/agent-decode.js';
import { taskEpisodeId } from '../src/tasks/task-episode.js';

/** Microseconds of CPU per task, per stage. */
export interface TaskStages {
  /** Writer: submit + place, `batch` tasks per task-table transaction (as a turn's quorum write carries them). */
  writerSubmitUs: number;
  /** Writer: the submitter's answer (the task's view). */
  writerAnswerUs: number;
  /** Writer: the outcome, `batch` per transaction. */
  writerOutcomeUs: number;
  /** Writer: the episode in the agent's document (one transaction per task: agents rarely repeat in a batch). */
  writerEpisodeUs: number;
  /** Each other replica: validate and apply the task-table updates (its TaskTable observing). */
  replicaTableUs: number;
  /** Each other replica: validate and apply the episode update. */
  replicaEpisodeUs: number;
  /** Every node: read the episode from its document and put it in the recall index (64 per index transaction). */
  recallFoldUs: number;
  /** Lever bound: the writer's episode as one immutable value (one Yjs item). */
  sealedEpisodeWriteUs: number;
  /** Lever bound: a replica applying that one-item episode (validated against a schema admitting it). */
  sealedEpisodeApplyUs: number;
  tasks: number;
  batch: number;
}

const cpuUs = (): number => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

/** Per-task CPU of each stage over `tasks` echo tasks for `agents` agents; run twice, the second (warm) run counts. */
export function measureTaskStages(tasks = 3_000, batch = 12, agents = 64): TaskStages {
  let out: TaskStages | undefined;
  for (let pass = 0; pass < 2; pass++) out = runStages(tasks, batch, agents);
  return out!;
}

function runStages(tasks: number, batch: number, agents: number): TaskStages {
  let x = 11;
  const random = (): number => ((x = (x * 16807) % 2147483647) / 2147483647);
  const members: SchedulerMember[] = ['n1', 'n2', 'n3', 'n4'].map((name) => ({ name, state: 'ACTIVE', slots: 16, freeSlots: 16, rttMs: 0.3 }));
  const table = new TaskTable({ node: 'n1', random });
  const sched = new TaskScheduler({ self: 'n1' });
  const tableUpdates: Uint8Array[] = [];
  table.doc.on('update', (u: Uint8Array) => tableUpdates.push(u));
  const replicaTable = new TaskTable({ node: 'n2', random });
  const mems = new Map<string, AgentMemoryDoc>();
  const replicaDocs = new Map<string, Y.Doc>();
  const sealedDocs = new Map<string, Y.Doc>();
  const sealedReplicas = new Map<string, Y.Doc>();
  const index = new RecallIndex(':memory:');
  const t = { submit: 0, answer: 0, outcome: 0, episode: 0, rTable: 0, rEpisode: 0, recall: 0, sealedWrite: 0, sealedApply: 0 };
  const timed = <T>(k: keyof typeof t, fn: () => T): T => {
    const c0 = cpuUs();
    const r = fn();
    t[k] += cpuUs() - c0;
    return r;
  };
  let folded: Array<[string, string]> = [];
  const fold = (): void => {
    const batchOf = folded;
    folded = [];
    timed('recall', () =>
      index.batch(() => {
        for (const [agent, id] of batchOf) {
          const e = readEpisode(replicaDocs.get(agent)!, id);
          if (e) index.put(agent, e);
        }
      }),
    );
  };
  for (let first = 0; first < tasks; first += batch) {
    const n = Math.min(batch, tasks - first);
    const ids = timed('submit', () => {
      const candidates = sched.prepare(table, members, first);
      return table.transact(() => {
        const added = Array.from({ length: n }, (_, j) => table.submit({ type: 'echo', input: { i: first + j }, agent: `a${(first + j) % agents}` }, first));
        sched.placeNewMany(table, added, candidates, first, random);
        return added;
      });
    });
    timed('answer', () => ids.forEach((id) => table.get(id)));
    timed('outcome', () =>
      table.transact(() => {
        for (const id of ids) table.complete(id, table.state(id)!.current!, { i: first }, first);
      }),
    );
    for (const [j, id] of ids.entries()) {
      const agent = `a${(first + j) % agents}`;
      let mem = mems.get(agent);
      if (!mem) mems.set(agent, (mem = new AgentMemoryDoc({ node: 'n1', random, agentId: agent })));
      const updates: Uint8Array[] = [];
      const onUpdate = (u: Uint8Array): number => updates.push(u);
      mem.doc.on('update', onUpdate);
      const episode = { task: `echo ${id}`, outcome: 'done', note: `result: ${JSON.stringify({ i: first + j })}`, tags: ['echo'], fields: { taskId: id, durationMs: 0 } };
      const eid = timed('episode', () => mem.addEpisode(episode, { now: first, id: taskEpisodeId(id) }));
      mem.doc.off('update', onUpdate);
      let rdoc = replicaDocs.get(agent);
      if (!rdoc) replicaDocs.set(agent, (rdoc = new Y.Doc()));
      for (const u of updates) timed('rEpisode', () => applyRemoteUpdate(rdoc, u, 'peer', { schema: MEMORY_SCHEMA }));
      folded.push([agent, eid]);
      // The lever: the same episode as one plain value under the episodes root.
      let sdoc = sealedDocs.get(agent);
      if (!sdoc) sealedDocs.set(agent, (sdoc = new Y.Doc()));
      const sealed: Uint8Array[] = [];
      const onSealed = (u: Uint8Array): number => sealed.push(u);
      sdoc.on('update', onSealed);
      const s = sdoc;
      timed('sealedWrite', () => s.transact(() => s.getMap('episodes').set(eid, { ...episode, node: 'n1', createdAt: first })));
      sdoc.off('update', onSealed);
      let sr = sealedReplicas.get(agent);
      if (!sr) sealedReplicas.set(agent, (sr = new Y.Doc()));
      for (const u of sealed) timed('sealedApply', () => applyRemoteUpdate(sr, u, 'peer', { schema: MEMORY_SCHEMA }));
    }
    for (const u of tableUpdates.splice(0)) timed('rTable', () => applyRemoteUpdate(replicaTable.doc, u, 'peer', { schema: TASKS_UPDATE_SCHEMA }));
    timed('rTable', () => replicaTable.counts()); // the node's /status reads it; finished tasks leave the open set here
    if (folded.length >= 64) fold();
  }
  if (folded.length > 0) fold();
  index.close();
  const per = (us: number): number => us / tasks;
  return {
    writerSubmitUs: per(t.submit),
    writerAnswerUs: per(t.answer),
    writerOutcomeUs: per(t.outcome),
    writerEpisodeUs: per(t.episode),
    replicaTableUs: per(t.rTable),
    replicaEpisodeUs: per(t.rEpisode),
    recallFoldUs: per(t.recall),
    sealedEpisodeWriteUs: per(t.sealedWrite),
    sealedEpisodeApplyUs: per(t.sealedApply),
    tasks,
    batch,
  };
}

/** The stages over a cluster of `nodes` (every node a replica): one writer, nodes - 1 replicas, every node's recall index. */
export function stagesArithmetic(s: TaskStages, nodes: number): { writerUs: number; replicaUs: number; clusterUs: number; recallShare: number; sealedSavingUs: number } {
  const writerUs = s.writerSubmitUs + s.writerAnswerUs + s.writerOutcomeUs + s.writerEpisodeUs + s.recallFoldUs;
  const replicaUs = s.replicaTableUs + s.replicaEpisodeUs + s.recallFoldUs;
  const clusterUs = writerUs + (nodes - 1) * replicaUs;
  const sealedSavingUs = s.writerEpisodeUs - s.sealedEpisodeWriteUs + (nodes - 1) * (s.replicaEpisodeUs - s.sealedEpisodeApplyUs);
  return { writerUs, replicaUs, clusterUs, recallShare: (nodes * s.recallFoldUs) / clusterUs, sealedSavingUs };
}
