// The storage surface the node uses. Internals (schema text, merge helper) stay importable by
// path for tests.
export type { NodeStore, NodeIdentity, AppendEntry, DocStorageStats, CompactionPolicy } from './types.js';
export { DEFAULT_COMPACTION } from './types.js';
export { SqliteStore, type SqliteStoreOptions } from './sqlite-store.js';
export { MemoryStore, type MemoryStoreOptions } from './memory-store.js';
export { DurableDocSet } from './durable-doc-set.js';
