// The sync surface the node uses: the engine, its DocSet contract, effects and config.
export { SyncEngine, type SyncEngineOptions } from './engine.js';
export type { SyncScope } from './replica-filter.js';
export type { DocSet, PeerId, SyncMode, SyncEffect, SyncEvent, RemoteOrigin } from './types.js';
export { isRemoteOrigin } from './types.js';
export { DEFAULT_SYNC_CONFIG, syncConfig, type SyncConfig } from './config.js';
export type { SyncStats, KindCounter } from './stats.js';
export type { MessageKind } from './messages.js';
export { YDocSet } from './ydoc-set.js';
export { LoopbackNet, type Fate, type InFlight } from './loopback.js';
