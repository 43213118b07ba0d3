// The public API of trinity-cluster (DESIGN.md "Library API"). Internals are not re-exported.
export { startNode, type StartNodeOptions } from './node/start-node.js';
export type { ClusterNode, MemberView } from './node/cluster-node.js';
export type { AgentMemory } from './memory/agent-memory.js';
export type { RecallQuery, RecallHit } from './recall/recall-query.js';
export type { Entity, Relation, Graph } from '../crdt/knowledge-graph.js';
export type { ReplicatedDoc } from './yjs/replicated-doc.js';
export type { EpisodeQuery } from './memory/episode-page.js';
export type { RetentionPolicy } from './memory/forget.js';
export type { TaskQuery } from './tasks/task-page.js';
export type { Page, PageQuery } from './paging.js';
export { MAX_NOTE_BYTES, MAX_TEXT_BYTES, MAX_TASK_INPUT_BYTES, MAX_PAGE_ITEMS, DEFAULT_PAGE_ITEMS } from './limits.js';
export type { Episode, Json, NewEpisode, Conflict, FieldValue } from '../crdt/index.js';
export type { LifecycleState } from './node/lifecycle.js';
export type { Role } from './node/meta.js';
export type { ProfileName } from '../gossip/config.js';
export { NodeClient, type ClientOptions } from './client/node-client.js';
export { generateKey, Keyring } from './security/index.js';
export { createLogger, silentLogger, type LogLevel } from './node/logger.js';
export {
  TriError,
  UsageError,
  ConfigError,
  DecodeError,
  OversizeError,
  AuthError,
  TransportError,
  TimeoutError,
  QuorumError,
  WriteTimeoutError,
  UnknownAgentTypeError,
  NotFoundError,
  StorageError,
  NodeStoppedError,
} from './errors.js';
