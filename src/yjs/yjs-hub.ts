// The node's Yjs client rooms: for every document with connected clients, its sessions and
// awareness. It ties sessions to the replicated documents:
// - a client's update is checked (schema, size) and applied through MemoryService.writeQuorum,
//   the same path as the CLI and agents (quorum gate, fsync, replication); the session echoes it
//   once that resolved;
// - every change of a document, whatever its origin (another client here, a peer node's
//   replication, the CLI, an agent), reaches the document's clients at once (a turn's first
//   change; the turn's others together at its end, turn-delivery.ts); a client's update, once
//   validated and before it is applied or stored, is relayed to the members with clients on the
//   document (update-relay.ts), whose clients then need not wait for the replication push, and
//   shown to the other clients here;
// - awareness is relayed to every client of the document, the sender included, and by RPC
//   notification (never stored) to the other members that have clients on the document
//   (peer-relay.ts, awareness-interest.ts), with the 30 s expiry; every client hears something at least every
//   15 s, so the stock client's 30 s liveness check never fires.
import * as Y from 'yjs';
import { updateRefusal, type UpdateSchema } from '../../crdt/index.js';
import { DecodeError, QuorumError, WriteTimeoutError } from '../errors.js';
import type { Logger } from '../runtime/types.js';
import { AwarenessTable, MAX_CLIENTS_PER_DOC, MAX_CLIENTS_PER_OWNER } from './awareness-table.js';
import { PEER_OWNER, PeerRelay } from './peer-relay.js';
import { CLOSE, YSession, type SessionLimits, type WriteOutcome } from './session.js';
import { KEEPALIVE_FRAME, encodeAwareness, encodeAwarenessUpdate, encodeUpdate, type AwarenessEntry } from './wire.js';
import { RelayedUpdates } from './update-relay.js';
import { TurnDelivery, type DeliveryRoom, type Recipient } from './turn-delivery.js';
import { EMPTY_DOC, addsNothing, dependsOnMissing, integrated, isEmptyStateVector, sameBytes } from './doc-checks.js';
import { isRemoteOrigin } from '../sync/types.js';
import type { ClientConnection, ClientHandle, HubOptions } from './hub-types.js';

export { AWARENESS_METHOD, INTEREST_METHOD, UPDATE_METHOD } from './peer-relay.js';
export type { ClientConnection, ClientHandle, HubOptions } from './hub-types.js';
/** How often rooms expire awareness and send keepalives; a client hears something within 15 s. */
const TICK_MS = 5_000;
const KEEPALIVE_AFTER_MS = 10_000;
/** Default size limit of one document (its encoded state), for `/yjs/doc/` and agent documents alike. */
export const DEFAULT_MAX_DOC_BYTES = 32 * 1024 * 1024;

interface Member extends Recipient {
  id: string;
  session: YSession;
  lastSent: number;
  /** Rechecked on every tick: false once the client's token expired or its key was removed. */
  stillAuthorized: () => string | undefined;
}

interface Room extends DeliveryRoom<Member> {
  docId: string;
  schema: UpdateSchema | undefined;
  members: Set<Member>;
  awareness: AwarenessTable;
  /** The document's encoded size, tracked from its updates (for the size limit); -1 until first needed. */
  size: number;
  /** A client's update shown to the room before it is applied (write()): its apply's change is not delivered again. */
  early?: { writer: Member; update: Uint8Array };
  /** Client updates other members relayed here that replication has not brought yet. */
  relayed?: RelayedUpdates<Member>;
  /** Releases the hold on the node's copy (HubOptions.hold) when the room closes. */
  release?: () => void;
}

export class YjsHub {
  private readonly rooms = new Map<string, Room>();
  private readonly log: Logger;
  private nextId = 1;
  private cancelTick: (() => void) | undefined;
  private stopped = false;
  /** Writes rooms' changes to their local clients: a turn's first at once, the rest at the turn's end. */
  private readonly delivery: TurnDelivery<Member>;
  readonly maxDocBytes: number;
  /** Interest, awareness and update traffic with the other members. */
  private readonly peerRelay: PeerRelay;
  /** Awareness relays sent to other members, and arrived from them (for /status and tests). */
  readonly relays: PeerRelay['counts'];

  constructor(private readonly o: HubOptions) {
    this.log = o.runtime.logger.child({ component: 'yjs' });
    this.maxDocBytes = o.maxDocBytes ?? DEFAULT_MAX_DOC_BYTES;
    const immediate = o.runtime.scheduler.immediate;
    this.delivery = new TurnDelivery(immediate && ((fn) => immediate.call(o.runtime.scheduler, fn)));
    o.memory.docs.onLocalUpdate((docId, update, origin) => this.changed(docId, update, origin));
    this.peerRelay = new PeerRelay({
      self: o.self, rpc: o.rpc, peers: o.peers, now: () => this.now(), log: this.log, maxDocBytes: this.maxDocBytes,
      hasClients: (docId) => this.rooms.has(docId),
      ownAwareness: (docId) => this.rooms.get(docId)!.awareness.live((owner) => !owner.startsWith(PEER_OWNER)),
      onAwareness: (docId, owner, entries) => this.remoteAwareness(docId, owner, entries),
      onUpdates: (entries) => {
        // One relay message at once (the replication push often follows in the same read and must
        // not hold it back), each client one write for all of it; in a turn that already wrote, at its end.
        const defer = this.delivery.busy;
        const rooms = new Set<Room>();
        for (const e of entries) this.remoteUpdate(e.docId, e.update, defer, rooms);
        if (!defer) this.delivery.flush(rooms);
      },
      soon: o.runtime.scheduler.soon?.bind(o.runtime.scheduler),
    });
    this.relays = this.peerRelay.counts;
    this.scheduleTick();
  }

  /** Clients connected now, over all rooms. */
  get clients(): number {
    let n = 0;
    for (const r of this.rooms.values()) n += r.members.size;
    return n;
  }

  get roomCount(): number {
    return this.rooms.size;
  }

  /** Attaches a client to a document; `readOnly`: its updates are not applied. */
  open(docId: string, schema: UpdateSchema | undefined, conn: ClientConnection, opts: { readOnly: boolean; stillAuthorized?: () => string | undefined }): ClientHandle {
    let room = this.rooms.get(docId);
    if (!room) {
      room = { docId, schema, members: new Set(), awareness: new AwarenessTable(), size: -1, release: this.o.hold?.(docId) };
      this.rooms.set(docId, room);
      this.peerRelay.announce('add', [docId]);
    }
    const r = room;
    const member: Member = {
      id: `c${this.nextId++}`,
      session: undefined as unknown as YSession,
      deliver: (frame) => member.session.deliverRaw(frame),
      flush: () => conn.flush?.(),
      lastSent: this.now(),
      stillAuthorized: opts.stillAuthorized ?? (() => undefined),
    };
    const limits: SessionLimits = { maxUpdateBytes: this.maxDocBytes, maxQueuedFrames: 256, maxInFlight: 1024 };
    member.session = new YSession(
      {
        send: (f) => {
          member.lastSent = this.now();
          conn.send(f);
        },
        close: (code, reason) => {
          this.leave(r, member);
          conn.close(code, reason);
        },
        // Reads never create the document: a client that only looks leaves no empty document behind.
        stateVector: () => this.o.memory.docs.stateVector(r.docId),
        diff: (sv) => {
          let d;
          try {
            d = this.o.memory.docs.diff(r.docId, sv);
          } catch (cause) {
            throw new DecodeError('state vector does not decode', { cause });
          }
          // A new client asks for everything: that answer is the document's encoded size, for free.
          if (r.size < 0 && isEmptyStateVector(sv)) r.size = d.byteLength;
          return d;
        },
        addsNothing: (update) => addsNothing(this.existing(r) ?? EMPTY_DOC, update),
        write: (update) => this.write(r, member, update),
        awareness: (entries) => this.clientAwareness(r, member, entries),
        awarenessStates: () => r.awareness.live(),
        status: conn.status ? (applied) => conn.status!(applied) : undefined,
      },
      { token: opts.readOnly },
      limits,
    );
    r.members.add(member);
    const load = this.o.load ? this.o.load(docId) : Promise.resolve();
    load.then(
      () => {
        if (this.stopped || member.session.closed) return;
        member.session.loaded();
      },
      (err: Error) => member.session.close(1011, `document failed to load: ${err.message}`),
    );
    return {
      frame: (bytes) => member.session.frame(bytes),
      ended: () => {
        member.session.ended();
        this.leave(r, member);
      },
      close: (code, reason) => member.session.close(code, reason),
    };
  }

  stop(): void {
    this.stopped = true;
    this.peerRelay.stop();
    this.cancelTick?.();
    for (const r of [...this.rooms.values()]) for (const m of [...r.members]) m.session.close(CLOSE.goingAway, 'node stopping');
    for (const r of this.rooms.values()) r.release?.();
    this.rooms.clear();
  }

  private now(): number {
    return this.o.runtime.clock.now();
  }

  private existing(r: Room): Y.Doc | undefined {
    return this.o.memory.docs.ids().includes(r.docId) ? this.o.memory.docs.doc(r.docId) : undefined;
  }

  private doc(r: Room): Y.Doc {
    return this.o.memory.docs.doc(r.docId);
  }

  private leave(r: Room, m: Member): void {
    if (!r.members.delete(m)) return;
    const removed = r.awareness.removeOwner(m.id, this.now());
    if (removed.length > 0) this.relay(r, removed, true);
    if (r.members.size === 0 && this.rooms.get(r.docId) === r) {
      this.rooms.delete(r.docId);
      r.release?.();
      if (!this.stopped) this.peerRelay.announce('remove', [r.docId]);
    }
  }

  /** A client's update through the quorum write path. */
  private async write(r: Room, m: Member, update: Uint8Array): Promise<WriteOutcome> {
    const doc = this.doc(r);
    // Built on an edit a relay showed its client before this node applied it: it waits for that edit
    // (an update that does not refer to anything missing goes on at once).
    const waits = r.relayed?.ahead(doc, this.now()) === true && dependsOnMissing(doc, update);
    if (waits) await r.relayed!.wait((ms, fn) => this.o.runtime.scheduler.schedule(ms, fn));
    let problem: string | undefined;
    try {
      problem = updateRefusal(doc, update, r.schema);
    } catch (err) {
      return { kind: 'refused', code: CLOSE.protocol, reason: `update does not decode: ${(err as Error).message}` };
    }
    if (problem !== undefined) return { kind: 'refused', code: CLOSE.schema, reason: `update refused whole: ${problem}` };
    // The size is learnt from a new client's sync (diff above) or here, once per room, only when a
    // client writes: encoding a large document just to open a room doubled a new reader's sync cost.
    if (r.size < 0) r.size = Y.encodeStateAsUpdate(doc).byteLength;
    if (r.size + update.byteLength > this.maxDocBytes) {
      return { kind: 'refused', code: CLOSE.tooLarge, reason: `document would exceed the ${this.maxDocBytes}-byte size limit` };
    }
    // Read-only: refused before the write path (which would log every keystroke of every client).
    if (this.o.writable && !this.o.writable()) return { kind: 'no-quorum' };
    try {
      // Other members' clients see it now (ahead of the write's pushes, peer-relay.ts), this node's
      // other clients next (before the Yjs apply, the store and the pushes: showEarly); only its
      // echo to the sender waits for the majority.
      this.peerRelay.relayUpdate(r.docId, update);
      // Validated above in this same synchronous run, so nothing changed the document in between.
      await this.o.memory.writeQuorum(() => {
        // Shown inside the op: once the write is admitted, and with the apply following at once, so
        // a client that builds on it finds it applied. Not after a wait for relayed edits (which
        // may have given up, leaving the update pending here).
        if (!waits) this.showEarly(r, m, update);
        try {
          Y.applyUpdate(doc, update, m);
        } finally {
          r.early = undefined;
        }
      });
      // An update whose dependencies the node lacks waits inside Yjs: nothing of it was stored or
      // replicated yet, so it must not be acknowledged.
      if (!integrated(doc, update)) return { kind: 'failed', reason: 'the update depends on changes this node has not seen' };
      return { kind: 'stored' };
    } catch (err) {
      if (err instanceof QuorumError) return { kind: 'no-quorum' };
      if (err instanceof WriteTimeoutError) return { kind: 'timeout' };
      this.log.warn({ doc: r.docId, err: (err as Error).message }, 'a client update failed');
      return { kind: 'failed', reason: (err as Error).message };
    }
  }

  /** A client's validated update to the room's other clients, before the node applies it (see TurnDelivery). */
  private showEarly(r: Room, writer: Member, update: Uint8Array): void {
    r.early = { writer, update };
    if (r.members.size > 1) this.delivery.send(r, encodeUpdate(update), writer, { flush: true });
  }

  /** Any change of any document: to the document's clients, except the client that made it (it gets its echo after quorum). */
  private changed(docId: string, update: Uint8Array, origin: unknown): void {
    const r = this.rooms.get(docId);
    if (!r) return;
    if (r.size >= 0) r.size += update.byteLength;
    const early = r.early;
    if (early && early.writer === origin) {
      r.early = undefined;
      // The same bytes went out before the apply. (A transaction that integrated more, say a
      // pending update it completed, is delivered as well: a duplicate is harmless, a gap is not.)
      if (sameBytes(early.update, update)) return;
    }
    if (r.members.size === 1 && r.members.has(origin as Member)) return; // only its writer is here
    const frame = encodeUpdate(update); // one frame for every client of the room
    if (r.relayed && isRemoteOrigin(origin)) {
      // The push of an update a relay brought earlier: only to the clients that did not get it then.
      const had = r.relayed.take(frame);
      if (had) this.relays.duplicatesSkipped++;
      this.delivery.send(r, frame, had, { flush: false });
      r.relayed.settled(this.doc(r), this.now());
      if (r.relayed.size === 0 && !r.relayed.waiting) r.relayed = undefined;
      return;
    }
    // Any other change (the CLI, an agent, a push, a client update not shown early). A local one is
    // pushed to the other nodes when this tick's code is done; where other nodes have clients on
    // the document, this node's clients get it at the turn's end, after those writes, so a room's
    // N local socket writes do not delay every remote client by N writes. Otherwise at once, in
    // order behind anything of the room still queued.
    const defer = !isRemoteOrigin(origin) && this.peerRelay.anyInterested(docId);
    this.delivery.send(r, frame, origin as Member, { flush: false, defer });
  }

  /** Another member's client update, validated there and not yet stored: to this node's clients of the document (`defer`: at the turn's end). */
  private remoteUpdate(docId: string, update: Uint8Array, defer: boolean, touched: Set<Room>): void {
    const r = this.rooms.get(docId);
    if (!r) return; // no client of it here (any more): replication brings it to the document
    touched.add(r);
    const frame = encodeUpdate(update);
    // A client still loading gets nothing now (its first sync comes from the document, the push after).
    const sentTo = new Set<Member>();
    for (const m of r.members) if (m.session.open) sentTo.add(m);
    this.delivery.send(r, frame, undefined, { flush: false, defer });
    (r.relayed ??= new RelayedUpdates()).add(update, frame, sentTo, this.now());
  }

  private clientAwareness(r: Room, m: Member, entries: AwarenessEntry[]): void {
    const taken = r.awareness.apply(m.id, entries, this.now(), MAX_CLIENTS_PER_OWNER);
    if (taken.length > 0) this.relay(r, taken, true);
  }

  /** Awareness changes to every local client of the room and, for changes made here, to the members with clients on the document. */
  private relay(r: Room, entries: AwarenessEntry[], toPeers: boolean): void {
    // One frame for the room: encoding it per client was most of a 100-client room's awareness cost.
    const frame = encodeAwareness(encodeAwarenessUpdate(entries));
    for (const m of r.members) m.session.deliverRaw(frame);
    if (toPeers) this.peerRelay.relayAwareness(r.docId, entries);
  }

  /** Interests other members hold now (bounded by AwarenessInterest). */
  get interests(): number {
    return this.peerRelay.interests;
  }

  /** Awareness another member relayed: to this node's clients of the document (never back to the members). */
  private remoteAwareness(docId: string, owner: string, entries: AwarenessEntry[]): void {
    const r = this.rooms.get(docId);
    if (!r) return;
    const taken = r.awareness.apply(owner, entries, this.now(), MAX_CLIENTS_PER_DOC);
    if (taken.length > 0) this.relay(r, taken, false);
  }

  private scheduleTick(): void {
    this.cancelTick = this.o.runtime.scheduler.schedule(TICK_MS, () => {
      if (this.stopped) return;
      this.tick();
      this.scheduleTick();
    });
  }

  private tick(): void {
    const now = this.now();
    // Soft state both ways: our interests renewed at every member, lapsed ones of theirs dropped.
    this.peerRelay.announce('refresh', [...this.rooms.keys()]);
    this.peerRelay.expire(now);
    this.o.refresh?.([...this.rooms.keys()]);
    for (const r of [...this.rooms.values()]) {
      const expired = r.awareness.expire(now);
      if (expired.length > 0) this.relay(r, expired, false);
      for (const m of [...r.members]) {
        const denied = m.stillAuthorized();
        if (denied !== undefined) {
          m.session.deny(CLOSE.unauthorized, denied);
          continue;
        }
        if (!this.o.writable || this.o.writable()) m.session.retry();
        if (now - m.lastSent >= KEEPALIVE_AFTER_MS && !m.session.closed) {
          m.lastSent = now;
          m.session.deliverRaw(KEEPALIVE_FRAME);
        }
      }
    }
  }
}
