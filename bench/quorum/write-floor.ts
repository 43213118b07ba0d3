// The floor of acknowledged-write throughput on one machine (used by `quorum-writes`): what one
// episode write costs the node that takes it and each node that replicates it, measured
// in-process on the real code path with durable SQLite stores and group commit, and none of the
// sockets, TLS, RPC, event loop or scheduling of a real cluster. Every write is pushed to every
// other node (continuous sync), so n nodes spend at least writer + (n - 1) x replica CPU per
// write, and c cores allow at most c / that many writes per second. The measured CPU per write
// of the real processes, next to it, shows how much the real cluster spends beyond the floor.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentMemoryDoc } from '../../crdt/index.js';
import { DurableDocSet } from '../../src/storage/durable-doc-set.js';
import { SqliteStore } from '../../src/storage/sqlite-store.js';
import { SyncEngine } from '../../src/sync/index.js';
import { cpuUs, FloorReplica } from '../lib/floor-replica.js';

export interface WriteFloor {
  /** CPU µs the writing node spends per episode: create and store it (group commit), encode its pushes, take 4 acks. */
  writerUs: number;
  /** CPU µs one replica spends per episode: decode, validate, apply, store (group commit), ack. */
  replicaUs: number;
  /** Of replicaUs: the SQLite group commits. */
  replicaStoreUs: number;
  episodeBytes: number;
  commitEvery: number;
  /** Sync messages per write, both ways between the writer and one replica (pushes + acks). */
  messagesPerWrite: number;
  /** A turn's pushes to a peer as one `updates` message, acked by one `acks` (coalescePushes). */
  coalesced: boolean;
}

const WRITER = 'w1';
const PEERS = ['r1', 'r2', 'r3', 'r4'];

/**
 * `writes` episodes shaped as the quorum-writes load writes them (`agents` agents), in turns of
 * `commitEvery` (about what one event-loop turn of a loaded node gathers): the writer writes and
 * commits them, the replica takes the pushes and commits, and its acks come back to the writer
 * as every peer's (so the writer sends documents by number, as in a running cluster). Measured
 * twice (the first pass warms the JIT); the second counts.
 */
export function measureWriteFloor(writes = 20_000, commitEvery = 32, agents = 64, coalesce = true): WriteFloor {
  const root = mkdtempSync(join(tmpdir(), 'tri-write-floor-'));
  try {
    let last: WriteFloor | undefined;
    for (let pass = 0; pass < 2; pass++) {
      const store = SqliteStore.open({ dir: join(root, `w${pass}`), name: WRITER });
      const replica = new FloorReplica(join(root, `r${pass}`), WRITER, coalesce);
      try {
        const docs = new DurableDocSet(store);
        docs.hold();
        const engine = new SyncEngine({ docs, epoch: 1, config: { coalescePushes: coalesce } });
        let messages = 0;
        for (const p of PEERS) engine.addPeer(p);
        let turn: Uint8Array[] = [];
        let episodeBytes = 0;
        docs.onLocalUpdate((docId, update, origin) => {
          episodeBytes += update.byteLength;
          // The pushes to every peer are encoded here (the writer's cost); r1's copy is replayed.
          for (const e of engine.localUpdate(docId, update, origin)) if (e.type === 'send' && e.peer === PEERS[0]) turn.push(e.bytes);
        });
        let x = 7;
        const random = (): number => ((x = (x * 16807) % 2147483647) / 2147483647);
        const mems = new Map<string, AgentMemoryDoc>();
        let writerUs = 0;
        let replicaUs = 0;
        let replicaStoreUs = 0;
        for (let first = 0; first < writes; first += commitEvery) {
          const n = Math.min(commitEvery, writes - first);
          writerUs += cpuUs(() => {
            for (let i = first; i < first + n; i++) {
              const agent = `bench-${i % agents}`;
              let mem = mems.get(agent);
              if (!mem) mems.set(agent, (mem = new AgentMemoryDoc({ node: WRITER, random, agentId: agent, doc: docs.doc(`agent/${agent}`) })));
              mem.addEpisode({ task: `task ${i}`, outcome: 'ok', note: `episode ${i} from worker ${i % 64}`, tags: ['bench'] }, { now: 1_700_000_000_000 + i });
            }
            // Coalescing: the turn's pushes leave together before its commit, as a node's do.
            for (const e of engine.flushPushes(first)) if (e.type === 'send' && e.peer === PEERS[0]) turn.push(e.bytes);
            docs.commit();
          });
          const pushes = turn;
          messages += pushes.length;
          turn = [];
          let acks: Uint8Array[] = [];
          replicaUs += cpuUs(() => {
            for (const m of pushes) acks = acks.concat(replica.handle(m, first));
            replicaStoreUs += cpuUs(() => (acks = acks.concat(replica.commit())));
          });
          messages += acks.length;
          writerUs += cpuUs(() => {
            for (const p of PEERS) for (const a of acks) engine.handle(p, a, first);
          });
        }
        if (replica.acks < writes) throw new Error(`write floor: the replica answered ${replica.acks} of ${writes} pushes`);
        last = { writerUs: writerUs / writes, replicaUs: replicaUs / writes, replicaStoreUs: replicaStoreUs / writes, episodeBytes: Math.round(episodeBytes / writes), commitEvery, messagesPerWrite: messages / writes, coalesced: coalesce };
      } finally {
        store.close();
        replica.close();
      }
    }
    return last!;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** CPU ms per write at `nodes` nodes by the floor, and the write rate that leaves on `cores` cores. */
export function writeFloorArithmetic(f: WriteFloor, nodes: number, cores: number): { cpuMsPerWrite: number; maxWritesPerSec: number } {
  const cpuMsPerWrite = (f.writerUs + (nodes - 1) * f.replicaUs) / 1000;
  return { cpuMsPerWrite, maxWritesPerSec: (cores * 1000) / cpuMsPerWrite };
}
