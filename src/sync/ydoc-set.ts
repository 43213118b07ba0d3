// A DocSet over plain Y.Docs held in memory: what the tests and the simulator drive the engine
// with, and the store behind the node's memory. Remote bytes enter through crdt/updates.ts
// (validated, against the document's schema where one is given) and digests are crdt's.
import * as Y from 'yjs';
import { applyRemoteUpdate, deltaSince, docDigest } from '../../crdt/index.js';
import { transactionChanged } from '../../crdt/updates.js';
import type { UpdateSchema } from '../../crdt/update-validation.js';
import { HASH_BYTES } from './hash.js';
import type { DocSet } from './types.js';

export type UpdateListener = (id: string, update: Uint8Array, origin: unknown) => void;

/** The schema remote updates to a document must follow; undefined accepts any valid Yjs update. */
export type SchemaFor = (id: string) => UpdateSchema | undefined;

export class YDocSet implements DocSet {
  private readonly docs = new Map<string, Y.Doc>();

  constructor(private readonly schemaFor: SchemaFor = () => undefined) {}

  private readonly listeners: UpdateListener[] = [];
  private readonly created: Array<(id: string, doc: Y.Doc) => void> = [];
  private readonly handlers = new Map<string, (update: Uint8Array, origin: unknown) => void>();

  /** The document, created (and watched) on first use. */
  doc(id: string): Y.Doc {
    let d = this.docs.get(id);
    if (!d) {
      // guid = the doc id: Yjs would otherwise draw a uuid from crypto (about 30 getRandomValues
      // calls, a visible cost in the simulator, which rebuilds every doc on each restart).
      d = new Y.Doc({ guid: id });
      const h = (update: Uint8Array, origin: unknown): void => this.emit(id, update, origin);
      d.on('update', h);
      this.handlers.set(id, h);
      this.docs.set(id, d);
      for (const cb of this.created) cb(id, d);
    }
    return d;
  }

  /**
   * Makes a document resident from stored updates, emitting nothing for them (they are not news):
   * the update listeners and the created callbacks only see the document once it is complete.
   */
  load(id: string, parts: readonly Uint8Array[], origin: unknown): Y.Doc {
    if (this.docs.has(id)) throw new Error(`document ${id} is already resident`);
    const d = new Y.Doc({ guid: id });
    for (const part of parts) Y.applyUpdate(d, part, origin);
    const h = (update: Uint8Array, o: unknown): void => this.emit(id, update, o);
    d.on('update', h);
    this.handlers.set(id, h);
    this.docs.set(id, d);
    for (const cb of this.created) cb(id, d);
    return d;
  }

  /** Drops a resident document from memory (its content must be stored elsewhere). */
  unload(id: string): void {
    const d = this.docs.get(id);
    if (!d) return;
    d.off('update', this.handlers.get(id)!);
    this.handlers.delete(id);
    this.docs.delete(id);
    d.destroy();
  }

  /** Calls `cb` with every document created from now on (opened, or first seen in a remote update). */
  onDocCreated(cb: (id: string, doc: Y.Doc) => void): void {
    this.created.push(cb);
  }

  has(id: string): boolean {
    return this.docs.has(id);
  }

  ids(): string[] {
    return [...this.docs.keys()];
  }

  stateVector(id: string): Uint8Array {
    const d = this.docs.get(id);
    return d ? Y.encodeStateVector(d) : EMPTY_SV;
  }

  diff(id: string, remoteSV: Uint8Array): Uint8Array {
    // deltaSince validates the remote state vector (DecodeError), which comes off the network.
    return deltaSince(this.docs.get(id) ?? EMPTY_DOC, remoteSV);
  }

  /** `changed`: the update added something (false for a duplicate that only confirmed known state). */
  apply(id: string, update: Uint8Array, origin: unknown): { pending: boolean; changed: boolean } {
    const d = this.doc(id);
    const h = this.handlers.get(id)!;
    // Yjs re-encodes each transaction's update for its 'update' listeners: for a remote update
    // that is work thrown away (the listeners get the update as received instead), so our
    // listener is off while it applies. A transaction of another origin that runs meanwhile (an
    // observer writing in reaction) is caught here and reported with a delta covering it.
    const others: Y.Transaction[] = [];
    const onTransaction = (tr: Y.Transaction): void => {
      if (tr.origin !== origin && transactionChanged(tr)) others.push(tr);
    };
    d.off('update', h);
    d.on('afterTransaction', onTransaction);
    let r;
    try {
      // crdt's applyRemoteUpdate decodes and checks the whole update before touching the doc, so
      // a malformed one raises DecodeError and leaves the document as it was.
      r = applyRemoteUpdate(d, update, origin, { schema: this.schemaFor(id) });
    } finally {
      d.off('afterTransaction', onTransaction);
      d.on('update', h);
    }
    if (r.changed) this.emit(id, update, origin);
    for (const tr of others) this.emit(id, Y.encodeStateAsUpdate(d, Y.encodeStateVector(tr.beforeState)), tr.origin);
    return { pending: r.pending, changed: r.changed };
  }

  private emit(id: string, update: Uint8Array, origin: unknown): void {
    for (const l of this.listeners) l(id, update, origin);
  }

  digest(id: string): Uint8Array {
    // The memory digest (state vector + delete set, cached per doc until it changes), cut to
    // the sync layer's 16 bytes. An unknown document digests as an empty one.
    return docDigest(this.docs.get(id) ?? EMPTY_DOC).subarray(0, HASH_BYTES);
  }

  onLocalUpdate(cb: UpdateListener): void {
    this.listeners.push(cb);
  }
}

const EMPTY_DOC = new Y.Doc();
const EMPTY_SV = Y.encodeStateVector(EMPTY_DOC);
