// A digest that is equal exactly when two replicas hold the same document state. The state
// is (which structs exist, which are deleted): the state vector says the first, the delete
// set the second. Hashing those instead of encodeStateAsUpdate avoids serialising every
// note's text: the cost is one walk over struct headers, and the result is cached until the
// doc next changes, so idle anti-entropy rounds cost a map lookup per document.
//
// Both parts are written canonically: clients in ascending order, delete ranges as Yjs
// computes them from the struct store (clock order, adjacent deleted structs merged), so two
// replicas whose structs were split differently still produce the same ranges.

import { createHash } from 'node:crypto';
import * as encoding from 'lib0/encoding';
import * as Y from 'yjs';
import { transactionChanged } from './updates.js';

/** Version tag so a future change of the encoding cannot compare equal to an old digest. */
const DIGEST_VERSION = 1;

function writeCanonicalState(encoder: encoding.Encoder, doc: Y.Doc): void {
  const sv = stateVectorMap(doc);
  const clients = [...sv.keys()].sort((a, b) => a - b);
  encoding.writeVarUint(encoder, clients.length);
  for (const client of clients) {
    encoding.writeVarUint(encoder, client);
    encoding.writeVarUint(encoder, sv.get(client) as number);
  }
  const ds = Y.createDeleteSetFromStructStore(doc.store);
  const deleted = [...ds.clients.keys()].sort((a, b) => a - b);
  encoding.writeVarUint(encoder, deleted.length);
  for (const client of deleted) {
    const ranges = ds.clients.get(client) ?? [];
    encoding.writeVarUint(encoder, client);
    encoding.writeVarUint(encoder, ranges.length);
    for (const range of ranges) {
      encoding.writeVarUint(encoder, range.clock);
      encoding.writeVarUint(encoder, range.len);
    }
  }
}

function stateVectorMap(doc: Y.Doc): Map<number, number> {
  const sv = new Map<number, number>();
  for (const client of doc.store.clients.keys()) sv.set(client, Y.getState(doc.store, client));
  return sv;
}

/** Uncached: sha-256 over (version, state vector, delete set). 32 bytes. */
export function computeDocDigest(doc: Y.Doc): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, DIGEST_VERSION);
  writeCanonicalState(encoder, doc);
  return new Uint8Array(createHash('sha256').update(encoding.toUint8Array(encoder)).digest());
}

const cache = new WeakMap<Y.Doc, Uint8Array | null>();

/**
 * Cached digest. The entry is dropped after any transaction that added structs or deleted
 * something, local or remote, including the one in which pending structs finally integrate.
 * (An 'update' listener would do the same but make Yjs encode every transaction's update.)
 */
export function docDigest(doc: Y.Doc): Uint8Array {
  const cached = cache.get(doc);
  // Copies out, so a caller that edits its digest cannot corrupt the cached one.
  if (cached) return cached.slice();
  if (cached === undefined) {
    doc.on('afterTransaction', (tr: Y.Transaction) => {
      if (transactionChanged(tr)) cache.set(doc, null);
    });
  }
  const digest = computeDocDigest(doc);
  cache.set(doc, digest);
  return digest.slice();
}

export function docDigestHex(doc: Y.Doc): string {
  return Buffer.from(docDigest(doc)).toString('hex');
}
