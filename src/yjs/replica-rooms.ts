// Yjs clients of an agent's memory on a node that is not one of its replicas (replication factor
// below the voter count). Such a node holds no up-to-date copy, so before a client is greeted
// (SyncStep1, the answer to its SyncStep1) the node merges the document from a majority of the
// agent's replica set, as `tri memory show` and recall do (src/memory/replica-read.ts): a client
// never gets an empty or stale document as "the state". While clients are connected the copy is
// held (handoff must not drop it under them) and merged again every hub tick, so writes made on
// the replicas (CLI, agents) reach these clients within a tick; client edits made here go through
// the write path to the replica set as usual. A replica (or a general `doc/` document, which every
// voter holds) loads at once.
import { AGENT_PREFIX } from '../memory/agent-docs.js';
import type { MemoryService } from '../memory/memory-service.js';
import type { Logger } from '../runtime/types.js';

/** What the hub asks of placement for its rooms (HubOptions.load / hold / refresh). */
export interface RoomPlacement {
  /** Resolves once `docId` here holds what a majority of its replica set holds (at once on a replica). */
  load(docId: string): Promise<void>;
  /** Keeps this node's copy of `docId` while the room is open; returns the release. */
  hold(docId: string): () => void;
  /** Merges the rooms' documents this node is not a replica of again (one pull each, none while one runs). */
  refresh(docIds: readonly string[]): void;
}

export function roomPlacement(memory: MemoryService, log: Logger): RoomPlacement {
  // Pulls coalesce per document: while one runs, everyone who asks shares the one after it (which
  // starts after they asked, so it sees every write acknowledged before), not one pull per client.
  const running = new Map<string, Promise<void>>();
  const queued = new Map<string, Promise<void>>();
  const pull = (docId: string, agent: string): Promise<void> => {
    const next = queued.get(docId);
    if (next) return next;
    const start = (): Promise<void> => {
      const p: Promise<void> = memory.beforeRead(agent).finally(() => {
        if (running.get(docId) === p) running.delete(docId);
      });
      running.set(docId, p);
      return p;
    };
    const now = running.get(docId);
    if (!now) return start();
    const after = now.catch(() => undefined).then(() => {
      queued.delete(docId);
      return start();
    });
    queued.set(docId, after);
    return after;
  };
  const agentOf = (docId: string): string | undefined => (docId.startsWith(AGENT_PREFIX) ? docId.slice(AGENT_PREFIX.length) : undefined);
  /** Placed on other nodes only: replica sets are in force and this node is not in the document's set. */
  const elsewhere = (docId: string): boolean => {
    const scope = memory.replicas.view.current();
    return scope.replicasOf(docId) !== undefined && !scope.isReplica(docId);
  };
  return {
    load: async (docId) => {
      const agent = agentOf(docId);
      if (agent !== undefined) await pull(docId, agent);
    },
    hold: (docId) => (agentOf(docId) === undefined ? () => undefined : memory.replicas.pin([docId])),
    refresh: (docIds) => {
      for (const docId of docIds) {
        const agent = agentOf(docId);
        if (agent === undefined || running.has(docId) || !elsewhere(docId)) continue;
        pull(docId, agent).catch(
          (err: Error) => {
            log.debug({ doc: docId, err: err.message }, 'could not merge a non-replica room from its replica set; its clients keep what they have');
          },
        );
      }
    },
  };
}
