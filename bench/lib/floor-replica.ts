// A replica for the in-process floors (task-floor, quorum/write-floor): a durable SQLite store
// in its own directory with group commit, and the sync engine over it, receiving one sender's
// pushes exactly as a node's sync path does, minus sockets and scheduling. Time it from outside.
import { DurableDocSet } from '../../src/storage/durable-doc-set.js';
import { SqliteStore } from '../../src/storage/sqlite-store.js';
import { SyncEngine } from '../../src/sync/index.js';
import { decodeMessage } from '../../src/sync/messages.js';
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

  /** `coalesce`: the engine stages its acks until commit() (coalescePushes, as a node with group commit). */
  constructor(
    dir: string,
    private readonly sender: string,
    private readonly coalesce = false,
  ) {
    this.store = SqliteStore.open({ dir, name: 'replica' });
    this.docs = new DurableDocSet(this.store);
    this.docs.hold();
    this.engine = new SyncEngine({ docs: this.docs, epoch: 2, config: { coalescePushes: coalesce } });
    this.engine.addPeer(sender);
    // A node's replica of the task table watches every change (derived-state caches).
    new TaskTable({ node: 'replica', random: () => 0.5, doc: this.docs.doc('tasks') });
  }

  /** Handles one push; returns the messages the replica sends back (its acks), to send after commit(). */
  handle(message: Uint8Array, now: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    return this.collect(this.engine.handle(this.sender, message, now), out);
  }

  /** The end-of-turn group commit (one transaction, one fsync); returns the acks staged for it (coalescing). */
  commit(): Uint8Array[] {
    this.docs.commit();
    return this.coalesce ? this.collect(this.engine.takeAcks(), []) : [];
  }

  private collect(effects: ReturnType<SyncEngine['takeAcks']>, out: Uint8Array[]): Uint8Array[] {
    for (const e of effects) {
      if (e.type !== 'send') continue;
      const m = decodeMessage(e.bytes);
      this.acks += m.kind === 'acks' ? m.requestIds.length : 1;
      out.push(e.bytes);
    }
    return out;
  }

  close(): void {
    this.store.close();
  }
}
