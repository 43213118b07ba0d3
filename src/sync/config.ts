// Sync engine settings, every default explained. The node passes overrides from its profile.
import { MAX_FRAME_BYTES } from '../transport/types.js';
import type { ReassemblyLimits } from './chunker.js';

export interface SyncConfig {
  /** delta_only anti-entropy period (DESIGN.md: every 10 s). */
  antiEntropyIntervalMs: number;
  /**
   * Peers contacted per anti-entropy period, round-robin. One keeps the idle cost per node
   * constant as the cluster grows (as memberlist's push-pull does); each peer is still reached
   * every `peers` periods, and continuous pushes carry most updates anyway.
   */
  antiEntropyPeersPerRound: number;
  /** Largest message sent in one piece; above it, chunks. The stream frame limit. */
  maxMessageBytes: number;
  /** A session this node started and the peer never finished is dropped after this. */
  sessionTimeoutMs: number;
  /** Minimum gap between two resyncs of the same document with the same peer. */
  resyncRetryMs: number;
  /**
   * Forward updates received from one peer to the others in continuous mode. Off by default:
   * every writer pushes to all peers itself, so relaying would multiply traffic by the cluster
   * size; anti-entropy repairs what a lost push missed. (Never back to the sender either way.)
   */
  relayRemoteUpdates: boolean;
  /**
   * Continuous pushes wait for SyncEngine.flushPushes, which sends each peer all of them as one
   * `updates` message (acknowledged by one `acks`). Off by default; the node turns it on where its
   * pushes already leave at the end of the turn (group commit), so nothing waits longer.
   */
  coalescePushes: boolean;
  /** A responder with at most this many documents lists them at once instead of walking the tree. */
  listAllDocsUpTo: number;
  reassembly: ReassemblyLimits;
}

export const DEFAULT_SYNC_CONFIG: SyncConfig = {
  antiEntropyIntervalMs: 10_000,
  antiEntropyPeersPerRound: 1,
  maxMessageBytes: MAX_FRAME_BYTES,
  sessionTimeoutMs: 30_000,
  resyncRetryMs: 5_000,
  relayRemoteUpdates: false,
  coalescePushes: false,
  // 8 entries of (short id + 16-byte digest) cost about as much as the 16 group hashes (256 B).
  listAllDocsUpTo: 8,
  reassembly: {
    // A single agent memory may be large (a 10,000-episode doc is several MB); cap far above it.
    maxMessageBytes: 256 * 1024 * 1024,
    maxBufferedBytesPerPeer: 256 * 1024 * 1024,
    timeoutMs: 60_000,
  },
};

export function syncConfig(overrides: Partial<SyncConfig> = {}): SyncConfig {
  return { ...DEFAULT_SYNC_CONFIG, ...overrides, reassembly: { ...DEFAULT_SYNC_CONFIG.reassembly, ...overrides.reassembly } };
}
