// The receiving half of the sync engine: integrating what peers send into the DocSet. Pushes
// (`update`, `updates`) are stored and acknowledged; deltas of sync sessions are applied and
// answered where we still differ; a document an update left pending (dependencies missing) is
// resynced with the peer that sent it. The engine decodes and dispatches; this file stores.
import { DecodeError } from '../errors.js';
import type { AckBatcher } from './ack-batcher.js';
import { entrySize } from './batch.js';
import type { SyncConfig } from './config.js';
import type { DigestTree } from './digest-tree.js';
import { equalBytes } from './hash.js';
import { CHECK_BYTES, type DocDeltaEntry, type PushEntry, type SyncMessage } from './messages.js';
import type { Outbox } from './outbox.js';
import type { ReplicaFilter } from './replica-filter.js';
import type { SessionTable } from './sessions.js';
import type { DocSet, PeerId, RemoteOrigin, SyncEffect, SyncMode } from './types.js';
import { travelsAlone } from './validate.js';

export interface RemoteApplyParts {
  docs: DocSet;
  tree: DigestTree;
  replicas: ReplicaFilter;
  acks: AckBatcher;
  sessions: SessionTable;
  outbox: Outbox;
  config: SyncConfig;
}

export class RemoteApplier {
  /** `${peer}\0${docId}` -> when we last asked that peer to resync that document. */
  private readonly resyncSentAt = new Map<string, number>();
  private refusedInBatches = 0;
  /**
   * Delta entries of the message being handled that carry the sender's digest check and match ours
   * already: neither validated nor applied. A returning node gets the same documents from several
   * peers at once (anti-entropy rounds each side starts, the rejoin snapshot); only the first copy
   * is decoded and integrated.
   */
  private readonly equalEntries = new WeakSet<DocDeltaEntry>();

  constructor(private readonly p: RemoteApplyParts) {}

  /** Marks the entries of a `doc-deltas` message this node already holds equally (before validation, which skips them). */
  markEqual(msg: SyncMessage): void {
    if (msg.kind === 'doc-deltas') for (const e of msg.entries) if (this.isEqual(e)) this.equalEntries.add(e);
  }

  /** Whether markEqual found `e` equal to what we hold. */
  isMarkedEqual(e: DocDeltaEntry): boolean {
    return this.equalEntries.has(e);
  }

  /** Pushes in an `updates` message refused so far (malformed or outside the schema). */
  refused(): number {
    return this.refusedInBatches;
  }

  forgetPeer(peer: PeerId): void {
    for (const key of this.resyncSentAt.keys()) if (key.startsWith(`${peer}\0`)) this.resyncSentAt.delete(key);
  }

  /** Lets resyncs be asked again once `resyncRetryMs` passed. */
  expire(now: number): void {
    for (const [key, at] of this.resyncSentAt) if (now - at >= this.p.config.resyncRetryMs) this.resyncSentAt.delete(key);
  }

  /** One push (`update`). A malformed one throws DecodeError: the engine drops the message whole. */
  onPush(out: SyncEffect[], peer: PeerId, docId: string, update: Uint8Array, requestId: number, now: number): void {
    // Not a replica of it: not stored, so not acknowledged (the writer counts replicas only).
    if (!this.p.replicas.mayApply(docId)) return;
    const { pending } = this.apply(docId, update, peer);
    // The DocSet stored the update durably before apply returned: acknowledging is safe.
    // This ack is the hook quorum writes count.
    this.p.acks.acknowledge(out, peer, [requestId]);
    if (pending) this.resync(out, peer, docId, now);
  }

  /**
   * Several pushes in one message: each is stored (or refused) on its own, as an `update` is, and
   * those stored are acknowledged together. A refused push (malformed, or outside its document's
   * schema) changes nothing and is not acknowledged; the others of the message still are.
   */
  onPushes(out: SyncEffect[], peer: PeerId, entries: readonly PushEntry[], now: number): void {
    const acked: number[] = [];
    const pendingDocs: string[] = [];
    for (const e of entries) {
      if (!this.p.replicas.mayApply(e.docId)) continue;
      try {
        if (this.apply(e.docId, e.update, peer).pending) pendingDocs.push(e.docId);
      } catch (err) {
        if (!(err instanceof DecodeError)) throw err;
        this.refusedInBatches++;
        continue;
      }
      acked.push(e.requestId);
    }
    // Every update applied above is stored durably (DocSet.apply): acknowledging is safe.
    if (acked.length > 0) this.p.acks.acknowledge(out, peer, acked);
    for (const id of new Set(pendingDocs)) this.resync(out, peer, id, now);
  }

  /** A session's deltas: applied, answered where we still differ, and the session's bookkeeping. */
  onDeltas(out: SyncEffect[], peer: PeerId, session: number, mode: SyncMode, reply: boolean, entries: DocDeltaEntry[], now: number): void {
    const { docs, sessions } = this.p;
    const answers: DocDeltaEntry[] = [];
    const pendingDocs: string[] = [];
    for (const e of entries) {
      if (this.equalEntries.has(e) || !this.p.replicas.mayApply(e.id)) continue;
      if (this.apply(e.id, e.update, peer).pending) pendingDocs.push(e.id);
      if (!e.sv && !e.check) continue;
      // With a check, answer only if we still differ from the sender after applying its delta.
      if (e.check && equalBytes(this.check(e.id), e.check)) continue;
      answers.push({ id: e.id, update: docs.diff(e.id, e.sv ?? docs.stateVector(e.id)) });
    }
    if (answers.length > 0) this.sendDeltas(out, peer, session, mode, false, answers);
    const s = reply ? sessions.own(session, peer, mode) : undefined;
    if (s) {
      for (const e of entries) {
        s.remaining.delete(e.id);
        s.docs.add(e.id);
      }
      const snapshotDone = s.mode !== 'full_snapshot' || (s.expectedDocs !== undefined && s.docs.size >= s.expectedDocs);
      if (s.remaining.size === 0 && snapshotDone) sessions.finish(out, session, peer);
    }
    // After the session bookkeeping, so a resync of a pending document is a fresh session.
    for (const id of pendingDocs) this.resync(out, peer, id, now);
  }

  /** The digest prefix a delta carries so its receiver can tell whether it still differs. */
  check(id: string): Uint8Array {
    return this.p.docs.digest(id).subarray(0, CHECK_BYTES);
  }

  sendStates(out: SyncEffect[], peer: PeerId, session: number, mode: SyncMode, ids: string[]): void {
    const entries = ids.map((id) => ({ id, sv: this.p.docs.stateVector(id) }));
    this.p.outbox.sendBatched(out, peer, entries, (e) => entrySize(e.id, e.sv), (batch) => ({ kind: 'doc-states', session, mode, entries: batch }));
  }

  sendDeltas(out: SyncEffect[], peer: PeerId, session: number, mode: SyncMode, reply: boolean, entries: DocDeltaEntry[]): void {
    this.p.outbox.sendBatched(out, peer, entries, (e) => entrySize(e.id, e.update, e.sv, e.check), (batch) => ({ kind: 'doc-deltas', session, mode, reply, entries: batch }), travelsAlone);
  }

  private apply(docId: string, update: Uint8Array, peer: PeerId): { pending: boolean } {
    const origin: RemoteOrigin = { remotePeer: peer };
    const r = this.p.docs.apply(docId, update, origin);
    // An empty update creates the document without firing an update event; count it anyway.
    this.p.tree.markDirty(docId);
    return r;
  }

  /** Pending document: pull it (both ways) from the peer whose update needed what we lack. */
  private resync(out: SyncEffect[], peer: PeerId, docId: string, now: number): void {
    const key = `${peer}\0${docId}`;
    const last = this.resyncSentAt.get(key);
    if (last !== undefined && now - last < this.p.config.resyncRetryMs) return;
    this.resyncSentAt.set(key, now);
    const session = this.p.sessions.open(peer, 'resync', now, [docId]);
    out.push({ type: 'resync', peer, docId });
    this.sendStates(out, peer, session, 'resync', [docId]);
  }

  /** Whether this node holds the entry's document exactly as its sender does (its digest check). */
  private isEqual(e: DocDeltaEntry): boolean {
    return e.check !== undefined && this.p.docs.has?.(e.id) === true && equalBytes(this.check(e.id), e.check);
  }
}
