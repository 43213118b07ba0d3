// A replica for the in-process floors (task-floor, quorum/write-floor): a durable SQLite store
// in its own directory with group commit, and the sync engine over it, receiving one sender's
// pushes exactly as a node's sync path does, minus sockets and scheduling. Time it from outside.
import { DurableDocSet } from '../../src/storage/durable-doc-set.js';
import { SqliteStore } from '../../src/storage/sqlite-store.js';
import { SyncEngine } from '../../src/sync/index.js';
import { TaskTable } from '../../src/tasks/index.js';

/** CPU microseconds `fn` took in this process (user + system). */
export function cpuUs(fn: () => void): number {
  const c0 = process.cpuUsage();
  fn();
  const c = process.cpuUsage(c0);
  return c.user + c.system;
}

export class FloorReplica {
  private readonly store: SqliteStore;
  private readonly docs: DurableDocSet;
  private readonly engine: SyncEngine;
  acks = 0;

  constructor(
    dir: string,
    private readonly sender: string,
  ) {
    this.store = SqliteStore.open({ dir, name: 'replica' });
    this.docs = new DurableDocSet(this.store);
    this.docs.hold();
    this.engine = new SyncEngine({ docs: this.docs, epoch: 2 });
    this.engine.addPeer(sender);
    // A node's replica of the task table watches every change (derived-state caches).
    new TaskTable({ node: 'replica', random: () => 0.5, doc: this.docs.doc('tasks') });
  }

  /** Handles one push; returns the messages the replica sends back (its acks), to send after commit(). */
  handle(message: Uint8Array, now: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const e of this.engine.handle(this.sender, message, now)) {
      if (e.type !== 'send') continue;
      this.acks++;
      out.push(e.bytes);
    }
    return out;
  }

  /** The end-of-turn group commit (one transaction, one fsync). */
  commit(): void {
    this.docs.commit();
  }

  close(): void {
    this.store.close();
  }
}
