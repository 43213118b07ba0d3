// What a ClusterNode is built from: the injected world (runtime, transports, store) and the
// options an operator or a test sets.
import type { ProfileName, SwimConfig } from '../../gossip/config.js';
import type { Runtime } from '../runtime/types.js';
import type { PacketTransport, StreamTransport } from '../transport/types.js';
import type { NodeStore } from '../storage/types.js';
import type { SyncConfig } from '../sync/index.js';
import type { RetentionOptions } from './retention-wiring.js';
import type { Role } from './meta.js';

export interface NodeWorld {
  runtime: Runtime;
  /** Gossip packets, already sealed by the keyring unless the cluster is --insecure. */
  packets: PacketTransport;
  /** Streams for push-pull, sync and client RPC, TLS unless --insecure. */
  streams: StreamTransport;
  /** Durable state (SQLite on a real node, in memory in the simulator); closed on stop. */
  store: NodeStore;
  /** Whether streams authenticate peers (TLS), so member-only RPCs can be enforced. */
  secure: boolean;
}

export interface ClusterNodeOptions {
  name: string;
  role?: Role;
  slots?: number;
  profile?: ProfileName;
  /** Overrides of the profile's gossip settings (validated with it). */
  gossip?: Partial<SwimConfig>;
  join?: string[];
  /** Stable id from the data directory; a random one when the node keeps no data. */
  nodeId: string;
  /** Incarnation to start from (persisted across restarts so a restart refutes stale claims). */
  incarnation?: number;
  rpcPort: number;
  httpPort?: number;
  /** Called to find seeds when none are given (UDP broadcast discovery). */
  discover?: () => Promise<string[]>;
  /** A learner pulls the documents it will hold from further voters before it is admitted (pre-warm; default on; off: its one catch-up snapshot only, for tests). */
  prewarm?: boolean;
  /** Members FAILED this long are removed from the voter set by the writable side (default 10 s). */
  stableAfterMs?: number;
  /** How long a write waits for a majority of voters to acknowledge it (default 5 s). */
  writeTimeoutMs?: number;
  /** Sync engine overrides (anti-entropy period and so on). */
  sync?: Partial<SyncConfig>;
  /** Task lease: a holder that neither finishes nor renews within it loses the task. */
  leaseMs?: number;
  /** Recall index file (in the data directory); ':memory:' (default) rebuilds it on each start. */
  recallIndex?: string;
  /** Finished-task trimming and memory policy sweeps (retention-wiring.ts). */
  retention?: RetentionOptions;
  /** Memory the agent documents may take before idle ones are unloaded (default 256 MiB; storage/residency.ts). */
  memoryBudgetBytes?: number;
  /** An agent document used more recently than this stays loaded (default 2 s). */
  memoryIdleMs?: number;
  /**
   * Split agents past SPLIT_AT episodes into segment documents (docs/segmented-memory.md). Off by
   * default: the recall index is not yet fed per document and voters carry no feature flag for it.
   */
  memorySegments?: { split: boolean; splitAt?: number };
}
