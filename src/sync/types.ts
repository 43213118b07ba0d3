// The sync engine's view of the world: a set of documents it can read state vectors and deltas
// from and apply updates to (DocSet), and what it asks its driver to do (SyncEffect).
// The engine is sans-IO: the node code feeds it messages and the time and carries out the effects.

/** Peers are named by a string the driver chooses (node id or address); the engine only compares them. */
export type PeerId = string;

/**
 * The four sync modes of DESIGN.md, plus `resync`: a per-document repair started when an
 * update stays pending (its dependencies are missing).
 */
export type SyncMode = 'full_snapshot' | 'delta_only' | 'on_demand' | 'continuous' | 'resync';

/**
 * The replicated documents as the engine needs them. The node adapts its agent memories to this;
 * tests use YDocSet. Updates are Yjs v1 updates and state vectors are Yjs v1 state vectors.
 */
export interface DocSet {
  ids(): string[];
  /** Encoded state vector; an unknown document has the empty state vector. */
  stateVector(id: string): Uint8Array;
  /** Everything this replica has that a replica at `remoteSV` lacks (encodeStateAsUpdate). */
  diff(id: string, remoteSV: Uint8Array): Uint8Array;
  /**
   * Applies a remote update (creating the document if unknown) and stores it durably before
   * returning, so the engine may acknowledge it. `pending` is true when the document now holds
   * structs whose dependencies are missing. Throws DecodeError, changing nothing, when the
   * update does not decode.
   */
  apply(id: string, update: Uint8Array, origin: unknown): { pending: boolean };
  /** Optional: whether the document is held here (replica-set scoping needs it). */
  has?(id: string): boolean;
  /** 16-byte digest of the document's content: equal digests mean equal content. */
  digest(id: string): Uint8Array;
  /** Called after every change to any document, local or remote. */
  onLocalUpdate(cb: (id: string, update: Uint8Array, origin: unknown) => void): void;
}

export type SyncEffect =
  | { type: 'send'; peer: PeerId; bytes: Uint8Array }
  | SyncEvent;

export type SyncEvent =
  /** A sync exchange this node started finished; `docs` are the documents that were exchanged. */
  | { type: 'synced'; peer: PeerId; mode: SyncMode; docs: string[] }
  /** A continuous-mode update went out; quorum code counts the matching `ack`s. */
  | { type: 'pushed'; docId: string; requestId: number; peers: PeerId[] }
  /** `peer` stored the update with `requestId` durably. */
  /** `word`: the acknowledging peer's voter-configuration word (0 when it sent none). */
  | { type: 'ack'; peer: PeerId; requestId: number; word: number }
  /** A document is pending after an update from `peer`; a resync of it was sent to that peer. */
  | { type: 'resync'; peer: PeerId; docId: string }
  /** A session this node started got no answer in time and was dropped (`docs`: those it was syncing, if known). */
  | { type: 'sync-timeout'; peer: PeerId; mode: SyncMode; docs: string[] };

/** Origin the engine passes to DocSet.apply, so drivers can tell remote updates apart. */
export interface RemoteOrigin {
  readonly remotePeer: PeerId;
}

export function isRemoteOrigin(origin: unknown): origin is RemoteOrigin {
  return typeof origin === 'object' && origin !== null && typeof (origin as RemoteOrigin).remotePeer === 'string';
}
