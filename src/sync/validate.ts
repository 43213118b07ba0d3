// Checks on the Yjs payloads inside sync messages, run before any of a message is applied so a
// message with one bad entry is dropped whole (DecodeError) instead of half-applied. The
// envelope codecs (messages.ts) know nothing of Yjs; this is where its formats are checked.
import * as Y from 'yjs';
import { DecodeError } from '../errors.js';
import type { DocDeltaEntry, SyncMessage } from './messages.js';

export function checkStateVector(docId: string, sv: Uint8Array): void {
  try {
    const decoded = Y.decodeStateVector(sv);
    for (const clock of decoded.values()) if (!Number.isSafeInteger(clock) || clock < 0) throw new RangeError(`clock ${clock}`);
  } catch (err) {
    throw new DecodeError(`malformed sync message: state vector for "${docId}" does not decode; the message was dropped`, { cause: err });
  }
}

export function checkUpdate(docId: string, update: Uint8Array): void {
  try {
    Y.decodeUpdate(update);
  } catch (err) {
    throw new DecodeError(`malformed sync message: update for "${docId}" does not decode as a Yjs update; the message was dropped`, { cause: err });
  }
}

/**
 * Validates every Yjs payload of a message up front, so a bad one drops the message whole.
 * The first update of a message is the exception: it is applied before anything else of the
 * message happens, and DocSet.apply decodes it in full and changes nothing when it is bad (its
 * contract), so checking it here too only decoded it twice: every continuous `update`, and every
 * large document (which travels alone in its doc-deltas message; Y.decodeUpdate of a 4 MB
 * memory takes longer than applying it).
 */
/** At this size an update's decode costs more than a message of its own (a few dozen bytes, one dispatch). */
export const ALONE_UPDATE_BYTES = 1024;

/**
 * Whether a delta entry travels in a doc-deltas message of its own: a large update then is its
 * message's first entry, which checkPayloads leaves to DocSet.apply, so the receiver decodes it
 * once instead of twice (a returning node's catch-up is mostly such first copies).
 */
export function travelsAlone(e: DocDeltaEntry): boolean {
  return e.update.byteLength >= ALONE_UPDATE_BYTES;
}

export function checkPayloads(m: SyncMessage, skipped: (e: DocDeltaEntry) => boolean = () => false): void {
  if (m.kind === 'doc-states') for (const e of m.entries) checkStateVector(e.id, e.sv);
  if (m.kind === 'ae-docs') for (const e of m.docs) if (e.sv) checkStateVector(e.id, e.sv);
  if (m.kind === 'doc-deltas') {
    // `skipped`: entries the engine will neither apply nor answer (equal already): not decoded.
    m.entries.forEach((e, i) => {
      if (skipped(e)) return;
      if (i > 0) checkUpdate(e.id, e.update);
      if (e.sv) checkStateVector(e.id, e.sv);
    });
  }
}
