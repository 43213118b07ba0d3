// The recall rebuild's hooks for decoding large agents off the event loop (recall-rebuild.ts):
// which agents go to the worker (stored large, not resident), what it is given (the stored bytes,
// read here in one SQL read), and the agent's digest now, read without loading its document.
import { docDigestHex } from '../../crdt/index.js';
import type { Logger } from '../runtime/types.js';
import type { AgentDecoding } from './agent-decoder.js';
import type { RebuildHooks } from './recall-rebuild.js';
import type * as Y from 'yjs';

const AGENT_PREFIX = 'agent/';

/** What of the document set is used here (RecallDocs in recall-service.ts). */
interface OffloadDocs {
  doc(id: string): Y.Doc;
  digest?(id: string): Uint8Array;
  isResident?(id: string): boolean;
  storedParts?(id: string): Uint8Array[] | undefined;
  storageStats?(id: string): { snapshotBytes: number; logBytes: number };
}

export function offloadHooks(docs: OffloadDocs, decoder: AgentDecoding, offloadBytes: number, logger: Logger): Pick<RebuildHooks, 'offloadable' | 'offload' | 'currentDigest' | 'offloadFailed'> {
  const { storedParts, isResident, storageStats } = docs;
  if (!storedParts || !isResident || !storageStats) return {};
  return {
    offloadable: (a) => {
      const id = AGENT_PREFIX + a;
      if (isResident.call(docs, id)) return false;
      const s = storageStats.call(docs, id);
      return s.snapshotBytes + s.logBytes >= offloadBytes;
    },
    offload: (a, onChunk) => {
      const parts = storedParts.call(docs, AGENT_PREFIX + a);
      // Resident again since offloadable() said no: the rebuild then retries it on the event loop.
      return parts ? decoder.decode(AGENT_PREFIX + a, parts, onChunk) : Promise.reject(new Error('the document became resident'));
    },
    currentDigest: (a) => {
      const d = docs.digest?.(AGENT_PREFIX + a);
      return d ? Buffer.from(d).toString('hex') : docDigestHex(docs.doc(AGENT_PREFIX + a));
    },
    offloadFailed: (a, err) => logger.warn({ agent: a, err: err.message }, 'decoding an agent off the event loop failed; rebuilding it on the event loop'),
  };
}
