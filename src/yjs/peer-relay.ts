// The Yjs hub's traffic with the other members, by RPC notification and never stored: which
// documents each member has clients on (interest), awareness changes, and validated client updates
// relayed ahead of replication. The hub keeps the rooms and its clients; this file only talks to
// the other members and hands what they send to the hub's callbacks.
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { decodeWith, readBoundedBytes, readBoundedString } from '../codec.js';
import type { RpcEndpoint } from '../rpc/endpoint.js';
import { METHODS } from '../rpc/methods.js';
import type { Logger } from '../runtime/types.js';
import { AwarenessInterest, decodeInterest, interestFrames, type InterestKind } from './awareness-interest.js';
import { decodeAwarenessUpdate, encodeAwarenessUpdate, type AwarenessEntry } from './wire.js';
import { MAX_RELAY_MESSAGE_BYTES, MAX_RELAYED_UPDATE_BYTES, decodeUpdateRelay, encodeUpdateRelay } from './update-relay.js';

export const AWARENESS_METHOD = METHODS.yjsAwareness;
export const INTEREST_METHOD = METHODS.yjsInterest;
export const UPDATE_METHOD = METHODS.yjsUpdate;
/** Owners of awareness entries that came from another member are named `peer:<member>`. */
export const PEER_OWNER = 'peer:';

export interface PeerRelayOptions {
  self: string;
  rpc: RpcEndpoint;
  /** The live members other than this node: name, and stream address. */
  peers: () => Array<{ name: string; address: string }>;
  now: () => number;
  log: Logger;
  maxDocBytes: number;
  /** Whether this node has clients on the document. */
  hasClients: (docId: string) => boolean;
  /** The awareness states of this node's own clients on a document it has clients on. */
  ownAwareness: (docId: string) => AwarenessEntry[];
  /** Awareness another member relayed, for a document this node has clients on; `owner` is `peer:<member>`. */
  onAwareness: (docId: string, owner: string, entries: AwarenessEntry[]) => void;
  /** Other members' client updates (one message: a turn of one member), validated there and not yet stored. */
  onUpdates: (entries: Array<{ docId: string; update: Uint8Array }>) => void;
  /** Runs `fn` once the code running now is done (process.nextTick); without it relays leave at once. */
  soon?: (fn: () => void) => void;
}

export class PeerRelay {
  /** Which other members have clients on which document. */
  private readonly interest = new AwarenessInterest();
  /** Relays sent to other members, and arrived from them (for /status and tests). */
  readonly counts = { sent: 0, received: 0, updatesSent: 0, relayMessagesSent: 0, updatesReceived: 0, duplicatesSkipped: 0 };
  private stopped = false;
  /** Relays of this turn, sent by flushUpdates(). */
  private queued: Array<{ docId: string; update: Uint8Array; to: string[] }> = [];
  /** A relay already left in this turn (the turn's later ones wait for its end). */
  private turnOpen = false;

  constructor(private readonly o: PeerRelayOptions) {
    o.rpc.onNotify(AWARENESS_METHOD, 'member', (payload) => this.remoteAwareness(payload));
    o.rpc.onNotify(INTEREST_METHOD, 'member', (payload) => this.remoteInterest(payload));
    o.rpc.onNotify(UPDATE_METHOD, 'member', (payload) => this.remoteUpdate(payload));
  }

  stop(): void {
    this.stopped = true;
  }

  /** Interests other members hold now (bounded by AwarenessInterest). */
  get interests(): number {
    return this.interest.size;
  }

  anyInterested(docId: string): boolean {
    return this.interest.anyInterested(docId, this.o.now());
  }

  /** Tells the live members which documents this node has clients on (all of them, or one member). */
  announce(kind: InterestKind, docs: string[], to?: { address: string }): void {
    if (docs.length === 0) return;
    const frames = interestFrames(this.o.self, kind, docs);
    for (const p of to ? [to] : this.o.peers()) {
      for (const f of frames) this.o.rpc.notify(p.address, INTEREST_METHOD, f).catch(() => undefined);
    }
  }

  /** Soft state: lapsed interests, and those of members no longer live, are dropped. */
  expire(now: number): void {
    this.interest.expire(now, new Set(this.o.peers().map((p) => p.name)));
  }

  /**
   * Sends a validated client update to the members with clients on the document; whether any
   * will be sent it. The turn's first relay is written to the wire at once, before the write path
   * applies and stores the update (a stream of single edits waits for none of that); the turn's
   * later ones (many clients' frames read in one turn) leave together at the end of the code
   * running now (`soon`), one message per member, ahead of that turn's replication pushes.
   */
  relayUpdate(docId: string, update: Uint8Array): boolean {
    if (update.byteLength > MAX_RELAYED_UPDATE_BYTES) return false; // its push carries it (a notify is one frame)
    const peers = this.o.peers();
    const names = this.interest.interested(docId, peers.map((p) => p.name), this.o.now());
    if (names.length === 0) return false;
    const to = peers.filter((p) => names.includes(p.name)).map((p) => p.address);
    this.queued.push({ docId, update, to });
    if (!this.o.soon) this.flushUpdates(false);
    else if (!this.turnOpen) {
      this.turnOpen = true;
      this.flushUpdates(true);
      this.o.soon(() => {
        this.turnOpen = false;
        this.flushUpdates(false);
      });
    }
    return true;
  }

  /**
   * Sends the queued relays: per member one message (more past MAX_RELAY_MESSAGE_BYTES); members
   * sent the same relays share one encoding. `now`: written to the wire before this returns.
   */
  private flushUpdates(now: boolean): void {
    if (this.queued.length === 0) return;
    const queued = this.queued;
    this.queued = [];
    if (this.stopped) return;
    const perPeer = new Map<string, number[]>();
    queued.forEach((q, i) => {
      for (const a of q.to) {
        const list = perPeer.get(a);
        if (list) list.push(i);
        else perPeer.set(a, [i]);
      }
    });
    const encoded = new Map<string, Uint8Array[]>();
    for (const [address, indexes] of perPeer) {
      const key = indexes.join(',');
      let payloads = encoded.get(key);
      if (!payloads) encoded.set(key, (payloads = this.encodeRelays(indexes.map((i) => queued[i]!))));
      this.counts.updatesSent += indexes.length;
      this.counts.relayMessagesSent += payloads.length;
      for (const payload of payloads) this.o.rpc.notify(address, UPDATE_METHOD, payload, now ? { flush: true } : undefined).catch(() => undefined);
    }
  }

  private encodeRelays(entries: Array<{ docId: string; update: Uint8Array }>): Uint8Array[] {
    const out: Uint8Array[] = [];
    let group: typeof entries = [];
    let bytes = 0;
    for (const e of entries) {
      if (group.length > 0 && bytes + e.update.byteLength > MAX_RELAY_MESSAGE_BYTES) {
        out.push(encodeUpdateRelay({ from: this.o.self, entries: group }));
        group = [];
        bytes = 0;
      }
      group.push(e);
      bytes += e.update.byteLength;
    }
    if (group.length > 0) out.push(encodeUpdateRelay({ from: this.o.self, entries: group }));
    return out;
  }

  /** Awareness changes made here to the members with clients on the document. */
  relayAwareness(docId: string, entries: AwarenessEntry[]): void {
    const peers = this.o.peers();
    const names = this.interest.interested(docId, peers.map((p) => p.name), this.o.now());
    if (names.length === 0) return;
    this.sendAwareness(docId, entries, peers.filter((p) => names.includes(p.name)).map((p) => p.address));
  }

  private sendAwareness(docId: string, entries: AwarenessEntry[], addresses: string[]): void {
    const e = encoding.createEncoder();
    encoding.writeVarString(e, this.o.self);
    encoding.writeVarString(e, docId);
    encoding.writeVarUint8Array(e, encodeAwarenessUpdate(entries));
    const payload = encoding.toUint8Array(e);
    for (const to of addresses) {
      this.counts.sent++;
      this.o.rpc.notify(to, AWARENESS_METHOD, payload).catch(() => undefined);
    }
  }

  private remoteInterest(payload: Uint8Array): void {
    if (this.stopped) return;
    let msg;
    try {
      msg = decodeInterest(payload);
    } catch (err) {
      this.o.log.debug({ err: (err as Error).message }, 'dropped an awareness interest that does not decode');
      return;
    }
    const peer = this.o.peers().find((p) => p.name === msg.from);
    if (!peer) return; // not a live member (yet): its next refresh comes once it is
    const fresh = this.interest.apply(msg, this.o.now());
    // A member newly interested in documents we have clients on: tell it ours, and our clients' states, now.
    const shared = fresh.filter((d) => this.o.hasClients(d));
    if (shared.length === 0) return;
    this.announce('add', shared, peer);
    for (const d of shared) {
      const mine = this.o.ownAwareness(d);
      if (mine.length > 0) this.sendAwareness(d, mine, [peer.address]);
    }
  }

  private remoteUpdate(payload: Uint8Array): void {
    if (this.stopped) return;
    let msg;
    try {
      msg = decodeUpdateRelay(payload, this.o.maxDocBytes);
    } catch (err) {
      this.o.log.debug({ err: (err as Error).message }, 'dropped an update relay that does not decode');
      return;
    }
    this.counts.updatesReceived += msg.entries.length;
    this.o.onUpdates(msg.entries);
  }

  private remoteAwareness(payload: Uint8Array): void {
    if (this.stopped) return;
    try {
      const { from, docId, update } = decodeWith(payload, 'awareness relay', (d: decoding.Decoder) => ({
        from: readBoundedString(d, 64, 'sender'),
        docId: readBoundedString(d, 256, 'document id'),
        update: readBoundedBytes(d, 16 * 1024 * 1024, 'awareness update'),
      }));
      this.counts.received++;
      if (!this.o.hasClients(docId)) return; // no client of it here (any more)
      this.o.onAwareness(docId, `${PEER_OWNER}${from}`, decodeAwarenessUpdate(update));
    } catch (err) {
      this.o.log.debug({ err: (err as Error).message }, 'dropped an awareness relay that does not decode');
    }
  }
}
