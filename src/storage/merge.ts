// Compaction's one piece of Yjs knowledge: folding a snapshot and its log into one update.
import * as Y from 'yjs';
import { StorageError } from '../errors.js';

/**
 * Merges updates into one without instantiating a Y.Doc (Y.mergeUpdates works on the encoding),
 * so compaction costs bytes, not a whole in-memory document. Updates whose dependencies are
 * missing stay in the merged result as pending structs, exactly as they were in the log.
 */
export function mergeForSnapshot(docId: string, parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  try {
    return Y.mergeUpdates(parts as Uint8Array[]);
  } catch (err) {
    throw new StorageError(
      `cannot compact document "${docId}": its stored updates do not merge (corrupt log?); ` +
        'the log is left as it was — restore the data directory from a replica if this persists',
      { cause: err },
    );
  }
}
