// "Does this replica already hold everything I hold?" answered from metadata alone: a Yjs snapshot
// (state vector and delete set: clocks and ranges, no content) of the asking node's copy against the
// answering node's document. Handoff and move completion ask it of continuing replicas instead of
// pushing them the whole document (a join into a quiet cluster then sends document bytes to the
// joiner only: docs/replica-sets.md "Handoff").
//
// Pure: Y.Doc and bytes in, answers out.
import * as Y from 'yjs';
import { DecodeError } from '../errors.js';

/** Longest encoded snapshot a hold-check carries (a delete set of a heavily edited document is the big part). */
export const MAX_HOLD_SNAPSHOT_BYTES = 256 * 1024;

/**
 * The snapshot of `doc` to ask with, or undefined when the document has structs or deletions
 * waiting for missing dependencies (the snapshot would not describe them: push the whole
 * document instead).
 */
export function holdSnapshot(doc: Y.Doc): Uint8Array | undefined {
  if (doc.store.pendingStructs !== null || doc.store.pendingDs !== null) return undefined;
  const bytes = Y.encodeSnapshot(Y.snapshot(doc));
  return bytes.byteLength <= MAX_HOLD_SNAPSHOT_BYTES ? bytes : undefined;
}

/** What a hold-check answers: whether the answering copy holds everything the asker's does, and whether the asker's holds everything the answering one does. */
export interface HoldAnswer {
  holds: boolean;
  within: boolean;
  /** When the answering copy does not hold everything: its state vector, so the asker sends only what it lacks. */
  sv?: Uint8Array;
}

/**
 * Compares `doc` (this node's copy; null when it holds none: never `holds`) with the asker's snapshot. Throws
 * DecodeError (the snapshot came off the network) when the bytes are not a snapshot.
 */
export function compareHeld(doc: Y.Doc | null, snapshotBytes: Uint8Array): HoldAnswer {
  let theirs: Y.Snapshot;
  try {
    theirs = Y.decodeSnapshot(snapshotBytes);
  } catch (err) {
    throw new DecodeError(`not a document snapshot: ${(err as Error).message}`);
  }
  const mine = doc ? Y.snapshot(doc) : Y.emptySnapshot;
  // Structs or deletions of ours still waiting for dependencies are not in our snapshot: not "within".
  const pending = doc !== null && (doc.store.pendingStructs !== null || doc.store.pendingDs !== null);
  // No copy at all is not holding it, even of a document with nothing in it yet (a task shard
  // opened by its scheduler): the asker then pushes it, and this replica holds it as the others do.
  const holds = doc !== null && covers(mine, theirs);
  return { holds, within: !pending && covers(theirs, mine), ...(doc !== null && !holds ? { sv: Y.encodeStateVector(doc) } : {}) };
}

/** Whether `doc` holds everything the snapshot describes (its structs and its deletions). */
export function holdsEverything(doc: Y.Doc, snapshotBytes: Uint8Array): boolean {
  return compareHeld(doc, snapshotBytes).holds;
}

/** Whether snapshot `a` covers `b`: every struct `b`'s state vector counts and every deletion of `b`'s delete set. */
function covers(a: Y.Snapshot, b: Y.Snapshot): boolean {
  for (const [client, clock] of b.sv) if ((a.sv.get(client) ?? 0) < clock) return false;
  for (const [client, items] of b.ds.clients) {
    const have = a.ds.clients.get(client) ?? [];
    for (const it of items) if (!rangeCovered(have, it.clock, it.len)) return false;
  }
  return true;
}

/** Whether [clock, clock + len) lies within the sorted, merged ranges `have` (a Yjs delete set's, after sortAndMerge). */
function rangeCovered(have: ReadonlyArray<{ clock: number; len: number }>, clock: number, len: number): boolean {
  if (len <= 0) return true;
  let lo = 0;
  let hi = have.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const r = have[mid]!;
    if (r.clock + r.len <= clock) lo = mid + 1;
    else if (r.clock > clock) hi = mid - 1;
    else return clock + len <= r.clock + r.len;
  }
  return false;
}
