// What the recall index needs of one agent's stored document, read without a live Y.Doc on the
// caller's side: every episode's JSON, the document's digest and whether structs wait on missing
// dependencies. Yjs decodes a document in one synchronous call (an agent of 100,000 episodes took
// seconds to tens of seconds); run here inside a worker thread (agent-decode-worker.ts), that
// call no longer holds the node's event loop.
import * as Y from 'yjs';
import { docDigestHex, type Episode } from '../../crdt/index.js';
import { episodeToJson } from '../../crdt/episode-json.js';
import { episodeParts, episodesOf } from '../../crdt/schema.js';

/** Episodes per chunk handed back: one chunk parses in a few milliseconds on the receiving side. */
export const CHUNK_EPISODES = 256;

export interface DecodedAgent {
  /** docDigestHex of the decoded document (the full 32 bytes). */
  digest: string;
  /** Structs or deletes wait on missing dependencies (the agent's rows must not be vouched for). */
  pending: boolean;
  episodes: number;
}

/** The episode as the document reads now, or undefined when it is absent (forgotten) or malformed. */
export function readEpisode(doc: Y.Doc, id: string): Episode | undefined {
  const parts = episodeParts(episodesOf(doc).get(id));
  return parts === undefined ? undefined : episodeToJson(id, parts);
}

export function hasPending(doc: Y.Doc): boolean {
  return doc.store.pendingStructs !== null || doc.store.pendingDs !== null;
}

/**
 * Decodes `parts` (a stored snapshot and its log rows, as NodeStore.loadDoc returns them) into a
 * document like the one residency would load, and hands its episodes to `onChunk` as JSON arrays
 * of at most `chunk` episodes.
 */
export function decodeAgent(docId: string, parts: readonly Uint8Array[], onChunk: (json: string) => void, chunk = CHUNK_EPISODES): DecodedAgent {
  const doc = new Y.Doc({ guid: docId });
  try {
    for (const part of parts) Y.applyUpdate(doc, part);
    let batch: Episode[] = [];
    let episodes = 0;
    for (const id of episodesOf(doc).keys()) {
      const e = readEpisode(doc, id);
      if (!e) continue;
      batch.push(e);
      episodes++;
      if (batch.length >= chunk) {
        onChunk(JSON.stringify(batch));
        batch = [];
      }
    }
    if (batch.length > 0) onChunk(JSON.stringify(batch));
    return { digest: docDigestHex(doc), pending: hasPending(doc), episodes };
  } finally {
    doc.destroy();
  }
}
