// Placement as operators see it: `memory.placement` answers where an agent's memory is placed on
// this node's voter configuration (`tri memory placement`), `operator.replication-factor` changes
// the cluster's factor through a configuration change, and /status gains a `placement` block.
// Storage follows the placement (src/memory/replica-sets.ts): with more voters than the factor,
// only an agent's replica set holds its memory; with no more, every voter holds everything.
import { ConfigError, QuorumError, TimeoutError, UsageError } from '../errors.js';
import { checkReplicationFactor, placementOf } from '../placement/index.js';
import type { VoterConfig } from '../quorum/voter-config.js';
import { intField, jsonObject, stringField, toJsonPayload } from '../rpc/json.js';
import { METHODS } from '../rpc/methods.js';
import type { Logger } from '../runtime/types.js';
import type { ClusterNode } from './cluster-node.js';

/** What `memory.placement` answers (the CLI prints it; docs/protocol.md). */
export interface PlacementReport {
  agent: string;
  /** The agent's replica set on this node's configuration, highest rendezvous score first. */
  replicas: string[];
  /** The configuration it was computed from. */
  epoch: number;
  replicationFactor: number;
  voters: number;
  /** Whether this node holds the agent's memory but is not one of its replicas (it is handing it off). */
  moving: boolean;
  /** Whether storage follows the placement (always, since replica sets are enforced). */
  enforced: boolean;
  /** Whether this node holds a copy of the agent's memory now. */
  heldHere: boolean;
  /** Whether this node holds the agent's task shard ('tasks/<agent>', placed like its memory) now. */
  tasksHeldHere: boolean;
  /** The replica set under a configuration this node accepted and awaits the outcome of, if any. */
  pending: { epoch: number; replicas: string[] } | null;
}


export const AGENT_ID = /^[A-Za-z0-9._:@-]{1,128}$/;
const SET_FACTOR_WAIT_MS = 15_000;

/** The placement of `agent` on `config` (and on `pending`, when a change is being agreed). */
export function placementReport(agent: string, config: VoterConfig, pending: VoterConfig | undefined, here: { moving: boolean; held: boolean; tasks?: boolean } = { moving: false, held: false }): PlacementReport {
  return {
    agent,
    replicas: placementOf(config).replicas(agent),
    epoch: config.epoch,
    replicationFactor: config.replicationFactor,
    voters: config.voters.length,
    moving: here.moving,
    enforced: true,
    heldHere: here.held,
    tasksHeldHere: here.tasks ?? false,
    pending: pending ? { epoch: pending.epoch, replicas: placementOf(pending).replicas(agent) } : null,
  };
}

export function registerPlacementMethods(node: ClusterNode): void {
  node.rpc.handle(METHODS.memoryPlacement, 'client', (payload) => {
    const agent = stringField(jsonObject(payload, 'memory placement arguments'), 'agent', 'memory placement arguments', 128);
    if (!AGENT_ID.test(agent)) throw new ConfigError(`agent id "${agent}" is not valid: use 1-128 letters, digits, ".", "_", ":", "@" or "-"`);
    const here = { moving: node.memoryService.replicas.isMoving(agent), held: node.memoryService.peek(agent) !== undefined, tasks: node.memoryService.docs.has(`tasks/${agent}`) };
    return toJsonPayload(placementReport(agent, node.gate.voterConfig(), node.gate.pending(), here));
  });

  node.rpc.handle(METHODS.setReplicationFactor, 'client', async (payload) => {
    const args = jsonObject(payload, 'replication-factor arguments');
    const n = intField(args, 'replicationFactor', 'replication-factor arguments', 1, 1_000_000);
    const bad = checkReplicationFactor(n);
    if (bad) throw new UsageError(bad);
    const before = node.gate.voterConfig();
    if (before.replicationFactor === n) return toJsonPayload({ configuration: before.epoch, replicationFactor: n, changed: false });
    if (!node.gate.verdict().writable) {
      throw new QuorumError(`${node.name} is read-only (${node.gate.verdict().reason ?? 'no quorum'}): changing the replication factor is a configuration change and needs a quorum`);
    }
    if (!node.gate.isVoter(node.name)) throw new UsageError(`${node.name} is not a voter: ask a voter (tri operator voters)`);
    const chosen = await node.voterConfig.propose({ replicationFactor: n }, SET_FACTOR_WAIT_MS);
    const after = node.gate.voterConfig();
    if (!chosen || after.replicationFactor !== n) {
      throw new TimeoutError(`the configuration change to replication factor ${n} was not decided within ${SET_FACTOR_WAIT_MS / 1000} s (another change may have been in progress); check with tri status and try again`);
    }
    return toJsonPayload({ configuration: after.epoch, replicationFactor: n, changed: true });
  });

  node.addStatus('placement', () => {
    const s = node.memoryService.replicas.status();
    return { replicationFactor: s.replicationFactor, enforced: true, partial: s.partial, handoffDropped: s.handoffDropped, readPulls: s.readPulls, refused: s.refused, movingFrom: s.movingFrom, movesSettled: s.movesSettled, handoffConfirmed: s.handoffConfirmed, movesReleased: s.movesReleased, peerRefused: s.peerRefused, ...node.memoryService.forward.counts };
  });
}

/**
 * `--replication-factor` of `tri node start`: the factor this node founds a cluster with. A node
 * that already holds a configuration keeps the cluster's factor; a different flag is reported.
 */
export function applyReplicationFactorFlag(node: ClusterNode, factor: number, log: Logger): void {
  const inForce = node.gate.setFoundingReplicationFactor(factor);
  if (inForce !== undefined) {
    log.warn(
      { flag: factor, replicationFactor: inForce },
      `--replication-factor ${factor} is not in force: this node's cluster has replication factor ${inForce} (its founder's, or set since); change it with tri operator replication-factor`,
    );
  }
}
