// The only door through which remote bytes enter a document. Yjs's applyUpdate trusts its
// input: on garbage it may throw midway (after integrating some structs) or misread lengths.
// So an update is first size-checked, then read in full (every struct and the delete set,
// without touching the doc: update-scan.ts, or Y.decodeUpdate for content kinds the scan leaves
// to it), then checked for references Yjs would choke on; only then applied. Anything refused raises DecodeError and leaves the
// doc as it was. Bytes of a *valid* update that were corrupted into another valid update
// cannot be told apart here: transports authenticate (AES-GCM) and storage should checksum.

import * as Y from 'yjs';
import { DecodeError, OversizeError } from '../errors/index.js';
import { DECODE_INSTEAD, scanUpdateProblem } from './update-scan.js';
import { updateProblem, type UpdateSchema } from './update-validation.js';

/** Larger than any snapshot we expect per agent; transports chunk above 1 MB anyway. */
export const DEFAULT_MAX_UPDATE_BYTES = 64 * 1024 * 1024;

export interface ApplyOptions {
  maxBytes?: number;
  /** Restrict roots and content kinds (AgentMemoryDoc passes MEMORY_SCHEMA). */
  schema?: UpdateSchema;
}

export interface ApplyResult {
  /** The doc's state changed (Yjs emitted an 'update' for it). */
  changed: boolean;
  /**
   * The doc holds structs or deletes waiting for updates it has not seen. They integrate by
   * themselves if the missing updates arrive; if they stay, the sync engine should resync.
   */
  pending: boolean;
  /** Yjs's hint of what the pending structs wait for: client -> a clock not yet received. */
  missing: Map<number, number>;
}

function checkBytes(update: unknown, maxBytes: number, what: string, minBytes: number): asserts update is Uint8Array {
  if (!(update instanceof Uint8Array)) throw new DecodeError(`${what} must be a Uint8Array; pass the bytes as received`);
  if (update.byteLength > maxBytes) {
    throw new OversizeError(`${what} is ${update.byteLength} bytes, above the ${maxBytes}-byte limit; send it in deltas`);
  }
  if (update.byteLength < minBytes) throw new DecodeError(`${what} is ${update.byteLength} bytes, too short to decode`);
}

/** Decodes without applying; throws DecodeError if the bytes are not a Yjs v1 update. */
export function decodeUpdateOrThrow(update: Uint8Array): ReturnType<typeof Y.decodeUpdate> {
  try {
    return Y.decodeUpdate(update);
  } catch (cause) {
    throw new DecodeError('update does not decode as a Yjs v1 update; dropped it, request a fresh delta from the peer', {
      cause,
    });
  }
}

/** scanUpdateProblem (update-scan.ts: the checks without building the structs); DecodeError where the bytes do not decode. */
function scanOrThrow(doc: Y.Doc, update: Uint8Array, schema: UpdateSchema | undefined): ReturnType<typeof scanUpdateProblem> {
  try {
    return scanUpdateProblem(doc, update, schema);
  } catch (cause) {
    throw new DecodeError('update does not decode as a Yjs v1 update; dropped it, request a fresh delta from the peer', { cause });
  }
}

export function pendingState(doc: Y.Doc): { pending: boolean; missing: Map<number, number> } {
  const structs = doc.store.pendingStructs;
  return {
    pending: structs !== null || doc.store.pendingDs !== null,
    missing: new Map(structs?.missing ?? []),
  };
}

/**
 * Why `update` may not be applied to `doc` (malformed, or outside `schema`), or undefined when it
 * may: the checks applyRemoteUpdate makes, for callers that apply through another path (a Yjs
 * client's update goes through the quorum write path). Throws DecodeError where the bytes do not decode.
 */
export function updateRefusal(doc: Y.Doc, update: Uint8Array, schema: UpdateSchema | undefined): string | undefined {
  const problem = scanOrThrow(doc, update, schema);
  return problem === DECODE_INSTEAD ? updateProblem(doc, decodeUpdateOrThrow(update), schema) : problem;
}

/** The test Yjs itself uses to decide whether a transaction emits an update. */
export function transactionChanged(tr: Y.Transaction): boolean {
  if (tr.deleteSet.clients.size > 0) return true;
  for (const [client, clock] of tr.afterState) if (tr.beforeState.get(client) !== clock) return true;
  return false;
}

export function applyRemoteUpdate(
  doc: Y.Doc,
  update: Uint8Array,
  origin: unknown,
  options: ApplyOptions = {},
): ApplyResult {
  // An empty v1 update is two bytes (no structs, no deletes).
  checkBytes(update, options.maxBytes ?? DEFAULT_MAX_UPDATE_BYTES, 'update', 2);
  const problem = updateRefusal(doc, update, options.schema);
  if (problem !== undefined) {
    throw new DecodeError(`update refused: ${problem}; dropped it unapplied; the peer sent a malformed or foreign update`);
  }
  // Watch the transaction rather than the 'update' event: listening to 'update' would make
  // Yjs re-encode every applied update just to tell us something changed.
  let changed = false;
  const onTransaction = (tr: Y.Transaction): void => {
    changed ||= transactionChanged(tr);
  };
  doc.on('afterTransaction', onTransaction);
  try {
    Y.applyUpdate(doc, update, origin);
  } catch (cause) {
    // Validation above should make this unreachable; if Yjs still fails, report it as bad input.
    throw new DecodeError('update failed to integrate; request a full resync from the peer', { cause });
  } finally {
    doc.off('afterTransaction', onTransaction);
  }
  return { changed, ...pendingState(doc) };
}

/** The doc's state vector: our vector clock, sent to peers so they can compute our delta. */
export function stateVector(doc: Y.Doc): Uint8Array {
  return Y.encodeStateVector(doc);
}

/** Everything `doc` holds that a peer with `remoteStateVector` lacks (a full snapshot for an empty vector). */
export function deltaSince(doc: Y.Doc, remoteStateVector: Uint8Array, maxBytes = DEFAULT_MAX_UPDATE_BYTES): Uint8Array {
  checkBytes(remoteStateVector, maxBytes, 'state vector', 1);
  try {
    Y.decodeStateVector(remoteStateVector);
  } catch (cause) {
    throw new DecodeError('state vector does not decode; ask the peer to send it again', { cause });
  }
  return Y.encodeStateAsUpdate(doc, remoteStateVector);
}
