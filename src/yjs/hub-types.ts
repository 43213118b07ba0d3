// What the Yjs hub takes (HubOptions) and what it exchanges with a transport per client
// (ClientConnection in, ClientHandle out): the ws and hocuspocus endpoints build on these.
import type { MemoryService } from '../memory/memory-service.js';
import type { RpcEndpoint } from '../rpc/endpoint.js';
import type { Runtime } from '../runtime/types.js';

export interface HubOptions {
  self: string;
  runtime: Runtime;
  memory: MemoryService;
  rpc: RpcEndpoint;
  /** The live members other than this node: name, and stream address (awareness goes to those with clients on the document). */
  peers: () => Array<{ name: string; address: string }>;
  maxDocBytes?: number;
  /** Whether the node can take writes now (the quorum gate); a read-only node refuses client updates without trying. */
  writable?: () => boolean;
  /** Resolves once the document is loaded (a non-replica merges it from the replica set first, replica-rooms.ts); default: loaded. */
  load?: (docId: string) => Promise<void>;
  /** Keeps the node's copy of a document while it has clients here; returns the release. */
  hold?: (docId: string) => () => void;
  /** Every tick, with the documents that have clients here (a non-replica merges them again). */
  refresh?: (docIds: readonly string[]) => void;
}

/** What a transport gives the hub for one client. */
export interface ClientConnection {
  send(frame: Uint8Array): void;
  close(code: number, reason: string): void;
  /** Explicit per-update acknowledgement (hocuspocus SyncStatus); without it stored updates are echoed. */
  status?(applied: boolean): void;
  /** Writes what this tick's sends queued now (the transport batches a tick's frames per client). */
  flush?(): void;
}

export interface ClientHandle {
  frame(bytes: Uint8Array): void;
  /** The socket closed. */
  ended(): void;
  close(code: number, reason: string): void;
}
