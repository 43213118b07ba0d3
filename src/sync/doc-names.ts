// Document names on the wire. An agent document id ("agent/planner-1", up to 134 bytes) would
// otherwise travel in every continuous push; instead each engine numbers the ids it sends
// (its own namespace, one number per id for the engine's life) and writes an id in full, with
// its number, to a peer until that peer has acknowledged a message carrying the definition.
// After that the number alone (one byte for the first 63 documents) stands for the id.
//
// A restarted sender numbers afresh, so numbers are scoped by the sender's epoch (a random
// 32-bit value per engine): a message with definitions carries the epoch (4 bytes), a message
// with numbers only carries its low byte (a tag). The receiver keeps the tables of the last few
// epochs per peer and resolves a number only when exactly one of them matches the tag; a number
// it cannot resolve (the receiver restarted and lost its table, or a stale message) is never
// guessed: the message is dropped and the sender told (`unknown-ref`), which makes it define
// its names again and resend or repair what was lost.
import { randomBytes } from 'node:crypto';
import type { PeerId } from './types.js';

/**
 * How the encoder writes one document id to one peer: our number (`defined`: with the id
 * spelled out), or the number the peer itself gave it (`theirs`, valid in the peer's epoch
 * `theirEpoch`, which the message then carries so a restarted peer cannot misread it).
 */
export type NamePlan = { ref: number; defined: boolean; theirs?: undefined } | { ref: number; theirs: number; defined?: undefined };

/** How the encoder writes each document id of one message to one peer. */
export interface NameWriter {
  readonly epoch: number;
  /** The peer's epoch, for `theirs` plans. */
  readonly theirEpoch?: number;
  /** undefined: write the id as plain text (no number). */
  plan(docId: string): NamePlan | undefined;
}

/** Resolves the numbers of one message (decoder side). */
export interface NameReader {
  /** The table for the sender's full epoch, or (tag) its low byte; undefined when unknown/ambiguous. */
  table(epoch: number | undefined, tag: number | undefined): ReadonlyMap<number, string> | undefined;
  /** Our own numbering, for ids the sender wrote by our number in our epoch `epoch`. */
  own?(epoch: number, ref: number): string | undefined;
}

export function randomEpoch(): number {
  return randomBytes(4).readUInt32LE(0);
}

/** The engine's own numbering and what each peer has confirmed of it. */
export class NameDictionary {
  private readonly refs = new Map<string, number>();
  private readonly ids: string[] = [];
  /** peer -> refs the peer acknowledged a definition of. */
  private readonly known = new Map<PeerId, Set<number>>();
  /** peer -> request id -> refs defined in that push (confirmed when its ack arrives). */
  private readonly inFlight = new Map<PeerId, Map<number, number[]>>();

  constructor(readonly epoch: number) {}

  refOf(docId: string): number {
    let r = this.refs.get(docId);
    if (r === undefined) {
      r = this.ids.length;
      this.refs.set(docId, r);
      this.ids.push(docId);
    }
    return r;
  }

  knows(peer: PeerId, docId: string): boolean {
    const r = this.refs.get(docId);
    return r !== undefined && (this.known.get(peer)?.has(r) ?? false);
  }

  /** Our id for our number `ref` in our epoch, for a peer that wrote it by our number. */
  own(epoch: number, ref: number): string | undefined {
    return epoch === this.epoch ? this.ids[ref] : undefined;
  }

  /**
   * The writer for messages to `peer`: our number when the peer knows it, else the peer's own
   * number for the id when `theirs` has one (cheaper than spelling it out), else a definition.
   */
  writerFor(peer: PeerId, theirs?: PeerNameTables): NameWriter {
    const known = this.known.get(peer);
    const latest = theirs?.latest(peer);
    const w: NameWriter = {
      epoch: this.epoch,
      plan: (docId) => {
        const ref = this.refOf(docId);
        if (known?.has(ref)) return { ref, defined: false };
        const t = latest?.refs.get(docId);
        if (latest && t !== undefined) return { ref, theirs: t };
        return { ref, defined: true };
      },
    };
    return latest ? { ...w, theirEpoch: latest.epoch } : w;
  }

  /** A push with request id `requestId` carried definitions of `refs` to `peer`. */
  sentDefinitions(peer: PeerId, requestId: number, refs: number[]): void {
    if (refs.length === 0) return;
    let m = this.inFlight.get(peer);
    if (!m) this.inFlight.set(peer, (m = new Map()));
    m.set(requestId, refs);
    // Bounded: a peer that never acks cannot grow this without limit (it is only an optimisation).
    if (m.size > 4096) m.delete(m.keys().next().value!);
  }

  /** `peer` acknowledged `requestId`: the definitions it carried are known to the peer now. */
  acked(peer: PeerId, requestId: number): void {
    const refs = this.inFlight.get(peer)?.get(requestId);
    if (!refs) return;
    this.inFlight.get(peer)!.delete(requestId);
    let k = this.known.get(peer);
    if (!k) this.known.set(peer, (k = new Set()));
    for (const r of refs) k.add(r);
  }

  /** The peer lost our numbering (or we theirs): define everything again. */
  forgetPeer(peer: PeerId): void {
    this.known.delete(peer);
    this.inFlight.delete(peer);
  }
}

const EPOCHS_KEPT = 4;

interface Table {
  epoch: number;
  ids: Map<number, string>;
  refs: Map<string, number>;
}

/** The numberings peers use towards us, per peer, for their last few epochs. */
export class PeerNameTables {
  private readonly tables = new Map<PeerId, Table[]>();

  /** The peer's most recently used numbering (what it would understand if we used it). */
  latest(peer: PeerId): { epoch: number; refs: ReadonlyMap<string, number> } | undefined {
    const list = this.tables.get(peer);
    return list?.[list.length - 1];
  }

  readerFor(peer: PeerId, own?: NameDictionary): NameReader {
    return {
      own: (epoch, ref) => own?.own(epoch, ref),
      table: (epoch, tag) => {
        const list = this.tables.get(peer);
        if (!list) return undefined;
        if (epoch !== undefined) return list.find((t) => t.epoch === epoch)?.ids;
        const matches = list.filter((t) => (t.epoch & 0xff) === tag);
        return matches.length === 1 ? matches[0]!.ids : undefined;
      },
    };
  }

  /** Records definitions from a message that decoded in full. */
  define(peer: PeerId, epoch: number, defs: ReadonlyArray<readonly [number, string]>): void {
    if (defs.length === 0) return;
    let list = this.tables.get(peer);
    if (!list) this.tables.set(peer, (list = []));
    let t = list.find((x) => x.epoch === epoch);
    if (!t) {
      t = { epoch, ids: new Map(), refs: new Map() };
      list.push(t);
      if (list.length > EPOCHS_KEPT) list.shift();
    } else if (list[list.length - 1] !== t) {
      // Most recently used last, so the oldest epoch is the one dropped.
      list.splice(list.indexOf(t), 1);
      list.push(t);
    }
    for (const [ref, id] of defs) {
      t.ids.set(ref, id);
      t.refs.set(id, ref);
    }
  }

  forgetPeer(peer: PeerId): void {
    this.tables.delete(peer);
  }
}
