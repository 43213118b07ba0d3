// Names of every RPC method, in one place so client and node cannot drift apart. Each handler
// lives in the subsystem that owns it (named beside each entry); docs/protocol.md lists payloads.
export const METHODS = {
  /** Member table as `tri nodes` shows it (src/node/cluster-node.ts). */
  members: 'cluster.members',
  /** This node's /status document: lifecycle, quorum, configuration, learners (src/node/ops-rpc.ts). */
  status: 'cluster.status',
  /** Agent memory for client tools (src/memory/memory-rpc.ts). */
  memoryAdd: 'memory.add',
  memoryShow: 'memory.show',
  memoryDigest: 'memory.digest',
  /** Forgetting and retention policy (src/memory/memory-rpc.ts). */
  memoryForget: 'memory.forget',
  memoryDrop: 'memory.drop',
  memoryPolicy: 'memory.policy',
  /** Recall and episode edits (src/memory/memory-rpc.ts). */
  memoryRecall: 'memory.recall',
  memoryAnnotate: 'memory.annotate',
  /** Where an agent's memory is placed, and the cluster's replication factor (src/node/placement-rpc.ts). */
  memoryPlacement: 'memory.placement',
  /** Between replicas: hold-check (handoff confirms a continuing replica by snapshot) and move-done (src/memory/replica-rpc.ts). */
  memoryHoldCheck: 'memory.hold-check',
  memoryMoveDone: 'memory.move-done',
  /** A client write taken by a non-replica, carried out by a replica of the agent (src/memory/write-forward.ts). */
  memoryForwardWrite: 'memory.forward-write',
  setReplicationFactor: 'operator.replication-factor',
  /** For tri mcp (src/mcp/node-methods.ts). */
  memoryAgents: 'memory.agents',
  graphCall: 'graph.call',
  /** Which agent types a member runs, and the union over live members (src/node/agent-types-rpc.ts). */
  agentTypes: 'agents.types',
  clusterAgentTypes: 'agents.cluster-types',
  /** A joining node asks its seeds whether its name is a live member's (src/node/name-check.ts). */
  nameCheck: 'cluster.name-check',
  /** Operator commands (src/node/operator-rpc.ts, src/node/snapshot-rpc.ts). */
  removeVoter: 'operator.remove-voter',
  snapshotTake: 'snapshot.take',
  snapshotRead: 'snapshot.read',
  snapshotDone: 'snapshot.done',
  /** Yjs clients' awareness relayed between nodes, one-way (src/yjs/yjs-hub.ts). */
  yjsAwareness: 'yjs.awareness',
  /** A Yjs client's validated update, to the members with clients on the document before it is stored (src/yjs/update-relay.ts). */
  yjsUpdate: 'yjs.update',
  /** Which documents a node has Yjs clients on, so awareness goes only there (src/yjs/awareness-interest.ts). */
  yjsInterest: 'yjs.interest',
  /** Tasks (src/node/task-service.ts). */
  taskSubmit: 'task.submit',
  taskGet: 'task.get',
  taskList: 'task.list',
  taskRun: 'task.run',
  taskRevoke: 'task.revoke',
  /** Tasks sharded with their agents, between members (src/node/task-shard-rpc.ts). */
  taskShardSubmit: 'task.shard-submit',
  taskReport: 'task.report',
  taskFind: 'task.find',
  taskPageHere: 'task.page-here',
  /** Gossip keyring management (src/node/keyring-rpc.ts). */
  keysList: 'keys.list',
  keysInstall: 'keys.install',
  keysUse: 'keys.use',
  keysRemove: 'keys.remove',
  keysApply: 'keys.apply',
  /** SWIM push-pull state exchange over streams (src/node/swim-driver.ts). */
  swimPushPull: 'swim.push-pull',
  /** Memory sync messages, one-way (src/memory/memory-service.ts). */
  sync: 'sync',
  /** Voter configurations (src/quorum/reconfiguration.ts, driven by src/node/voter-config-driver.ts). */
  quorumPrepare: 'quorum.prepare',
  quorumAccept: 'quorum.accept',
  quorumCommit: 'quorum.commit',
  quorumConfig: 'quorum.config',
  /** A removed member admitted again is told to pull a full snapshot (src/node/cluster-node.ts). */
  quorumRejoin: 'quorum.rejoin',
} as const;
