// Placement of agent memory on replica sets (rendezvous hashing over the voter configuration).
export { fmix32, murmur3, nameLanes } from './hash.js';
export { MAX_WEIGHT, Placement, replicaSet, weightFromSlots, type PlacementVoter } from './rendezvous.js';
export { moveOf, moveTotals, placementMoves, type PlacementMove } from './moves.js';
export { placementOf, type PlacedConfig } from './config-placement.js';
export { checkReplicationFactor, DEFAULT_REPLICATION_FACTOR, MAX_REPLICATION_FACTOR } from './replication-factor.js';
export { AGENT_DOC_PREFIX, placementKeyOf, ReplicaScope } from './replica-scope.js';
