// The crdt/ surface the node (src/) uses. Internals (merge-type helpers, validation) stay
// importable by path for tests but are not part of this list.

export { AgentMemoryDoc } from './episode-doc.js';
export type { AgentMemoryOptions, NewEpisode, WriteContext, MemoryChange } from './episode-doc.js';
export type { Episode } from './episode-json.js';
export type { Conflict, FieldValue } from './mv-register.js';
export type { Json } from './json.js';
export {
  applyRemoteUpdate,
  updateRefusal,
  decodeUpdateOrThrow,
  deltaSince,
  pendingState,
  stateVector,
  DEFAULT_MAX_UPDATE_BYTES,
} from './updates.js';
export type { ApplyOptions, ApplyResult } from './updates.js';
export { computeDocDigest, docDigest, docDigestHex } from './doc-digest.js';
export { MEMORY_SCHEMA } from './memory-schema.js';
export type { UpdateSchema } from './update-validation.js';
