// Checks on the Yjs payloads inside sync messages, run before any of a message is applied so a
// message with one bad entry is dropped whole (DecodeError) instead of half-applied. The
// envelope codecs (messages.ts) know nothing of Yjs; this is where its formats are checked.
import * as Y from 'yjs';
import { DecodeError } from '../errors.js';

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
