// A client of one node's RPC port, as the CLI and embedding programs use it: dials out only,
// authenticates with the cluster key (TLS-PSK, identity "client:NAME") or operator certificates,
// and speaks the JSON control-plane methods of src/rpc/methods.ts.
import { realRuntime } from '../runtime/real.js';
import { createTcpTransport, type TcpTransport } from '../transport/tcp.js';
import { createPlainSocketLayer } from '../transport/plain-socket-layer.js';
import type { SocketLayer } from '../transport/types.js';
// Direct imports, not the barrel: a CLI call loads only what a client needs (start-up time).
import { Keyring } from '../security/keyring.js';
import { mutualTlsLayer } from '../security/tls-mtls.js';
import { tlsPskLayer } from '../security/tls-psk.js';
import { RpcEndpoint } from '../rpc/endpoint.js';
import { METHODS } from '../rpc/methods.js';
import { fromJsonPayload, toJsonPayload } from '../rpc/json.js';
import { silentLogger } from '../runtime/silent-logger.js';
import type { MemberView } from '../node/cluster-node.js';
import type { KeyOp, KeyOpReply } from '../node/keyring-rpc.js';
import { ConfigError, DecodeError } from '../errors.js';
import type { Episode, Json } from '../../crdt/index.js';
import type { RecallHit, RecallQuery } from '../recall/recall-query.js';
import type { AnnotateOp } from '../memory/annotate.js';
import type { NewTask, TaskView } from '../tasks/index.js';
import { arrayOf, isEpisode, objectWith } from './reply-shape.js';

/** The RPC port a node listens on unless started with --rpc-port. */
export const DEFAULT_RPC_PORT = 10000;

/** HOST, [V6HOST] or HOST:PORT -> with a port (the CLI's --at does the same). */
export function withDefaultPort(at: string, port: number): string {
  if (/^\[[^\]]+\]:\d+$/.test(at) || /^[^:[\]]+:\d+$/.test(at)) return at;
  if (/^\[[^\]]+\]$/.test(at)) return `${at}:${port}`;
  if (!at.includes(':')) return `${at}:${port}`;
  return `[${at}]:${port}`; // a bare IPv6 address
}

/** The parts of /status (cluster.status) a client reads; the node sends more. */
export interface NodeStatusJson {
  name: string;
  state: string;
  nodeId: string;
  incarnation: number;
  address: string;
  voters: string[];
  quorum: {
    writable: boolean;
    reachable: number;
    voters: number;
    tiebreaker: string | null;
    removed: string[];
    learners: string[];
    configuration: number;
    pendingConfiguration: number | null;
    reason?: string;
    /** Each voter entry's node id (null: an entry of an older version); absent from nodes before node ids were shown. */
    voterIds?: Record<string, string | null>;
    /** Voters whose member runs another data directory than its entry lists (it waits to be replaced). */
    staleVoters?: string[];
  };
  tasks: Record<string, number>;
  /** documentsHeld, bytesHeld, documentsMoving: absent from nodes of versions before replica sets were enforced. */
  memory: { digest: string; documents: number; agents: number; documentsHeld?: number; bytesHeld?: number; documentsMoving?: number };
  /**
   * Absent from nodes of versions before replica sets; `partial`: replica sets smaller than the voter set;
   * `writesForwarded`/`forwardedWritesServed`: client writes this node sent to a replica of their agent / carried out for a non-replica.
   */
  placement?: { replicationFactor: number; enforced: boolean; partial?: boolean; writesForwarded?: number; forwardedWritesServed?: number };
  members: MemberView[];
  [k: string]: unknown;
}
import type { EpisodeQuery } from '../memory/episode-page.js';
import type { RetentionPolicy } from '../memory/forget.js';
import type { ReadConsistency, WriteConsistency } from '../memory/consistency.js';
import type { TaskQuery } from '../tasks/task-page.js';
import type { PlacementReport } from '../node/placement-rpc.js';
import { pagesOf, type Page } from '../paging.js';

export interface ClientOptions {
  /** HOST[:RPC_PORT] of any node (port 10000 when left out). */
  at: string;
  key?: string;
  tls?: { cert: string; key: string; ca: string };
  insecure?: boolean;
  label?: string;
  timeoutMs?: number;
}

/** The parts of cluster.status every client reads. */
export const isNodeStatus = objectWith<NodeStatusJson>({ name: 'string', state: 'string', quorum: 'object' });
const isTaskView = objectWith<TaskView>({ id: 'string', type: 'string', status: 'string' });
const isKeyOpReply = objectWith<KeyOpReply>({ results: 'array' });
const isPlacementReport = objectWith<PlacementReport>({ agent: 'string', replicas: 'array', epoch: 'number', replicationFactor: 'number', moving: 'boolean', enforced: 'boolean' });

export class NodeClient {
  private constructor(
    private readonly transport: TcpTransport,
    private readonly rpc: RpcEndpoint,
    private readonly at: string,
    private readonly timeoutMs: number,
  ) {}

  static async connect(opts: ClientOptions): Promise<NodeClient> {
    if (!opts.insecure && !opts.key && !opts.tls) {
      throw new ConfigError('no cluster key: pass --key-file FILE (the key the cluster was started with), or --insecure for a plaintext test cluster');
    }
    const layer: SocketLayer = opts.tls
      ? mutualTlsLayer(opts.tls)
      : opts.key
        ? tlsPskLayer({ keyring: new Keyring(opts.key), name: `client:tri-${process.pid}`, label: opts.label ?? 'trinity' })
        : createPlainSocketLayer();
    const transport = await createTcpTransport({ host: '0.0.0.0', port: 0, layer, listen: false });
    const rpc = new RpcEndpoint(transport, realRuntime(silentLogger()), { secure: !opts.insecure });
    return new NodeClient(transport, rpc, withDefaultPort(opts.at, DEFAULT_RPC_PORT), opts.timeoutMs ?? 10_000);
  }

  /** Calls `method`; the reply must pass `shape` (a DecodeError otherwise). */
  async call<T>(method: string, args: unknown, shape: (v: unknown) => v is T, timeoutMs = this.timeoutMs): Promise<T> {
    // Arguments over one frame travel in parts; past what a message may carry the endpoint refuses them (OversizeError).
    const reply = await this.rpc.call(this.at, method, toJsonPayload(args), timeoutMs);
    const v = fromJsonPayload(reply, `reply to ${method}`);
    if (!shape(v)) throw new DecodeError(`reply to ${method} does not have the expected shape (is the node a different version?)`);
    return v;
  }

  /** The node's /status document: lifecycle, quorum, voter configuration, learners, counts. */
  status(): Promise<NodeStatusJson> {
    return this.call(METHODS.status, null, isNodeStatus);
  }

  members(): Promise<MemberView[]> {
    return this.call(METHODS.members, null, arrayOf(objectWith<MemberView>({ name: 'string', address: 'string', port: 'number', state: 'string' })));
  }

  /** `consistency`: `majority` (default) or `all` (every replica of the agent's set acknowledges). */
  addEpisode(args: { agent: string; task: string; outcome: string; note?: string; tags?: string[]; fields?: Record<string, Json>; consistency?: WriteConsistency }): Promise<Episode> {
    return this.call(METHODS.memoryAdd, args, isEpisode);
  }

  /** Every episode of the agent, oldest first, read page by page (each reply stays small). */
  async showMemory(agent: string): Promise<Episode[]> {
    const all: Episode[] = [];
    for await (const items of this.memoryPages(agent, { limit: 1000 })) all.push(...items);
    return all.reverse();
  }

  /** One page of the agent's episodes, newest first; pass `next` as `after` for the following one. `consistency` `majority`: merged from a majority of its replica set first. */
  async memoryPage(agent: string, q: EpisodeQuery = {}, consistency?: ReadConsistency): Promise<Page<Episode>> {
    const r = await this.call(METHODS.memoryShow, { ...q, agent, ...(consistency ? { consistency } : {}) }, objectWith<{ episodes: Episode[]; next?: string }>({ episodes: 'array' }));
    return { items: r.episodes, ...(r.next ? { next: r.next } : {}) };
  }

  /** The agent's episodes page by page, newest first. */
  memoryPages(agent: string, q: EpisodeQuery = {}, consistency?: ReadConsistency): AsyncGenerator<Episode[]> {
    return pagesOf(q, (page) => this.memoryPage(agent, page, consistency));
  }

  /** Forgets one episode on every replica (needs quorum); false when the agent has no such episode. */
  async forgetEpisode(agent: string, id: string, consistency?: WriteConsistency): Promise<boolean> {
    return (await this.call(METHODS.memoryForget, { agent, id, ...(consistency ? { consistency } : {}) }, objectWith<{ forgotten: boolean }>({ forgotten: 'boolean' }))).forgotten;
  }

  /** Forgets every episode of an agent (needs quorum); resolves how many there were. */
  async dropAgent(agent: string, consistency?: WriteConsistency): Promise<number> {
    return (await this.call(METHODS.memoryDrop, { agent, ...(consistency ? { consistency } : {}) }, objectWith<{ forgotten: number }>({ forgotten: 'number' }))).forgotten;
  }

  /** Sets the agent's retention policy when one is given ({} clears it); resolves the policy in force. */
  async memoryPolicy(agent: string, policy?: RetentionPolicy, consistency?: WriteConsistency): Promise<RetentionPolicy | null> {
    return (await this.call(METHODS.memoryPolicy, { agent, ...(policy ? { policy } : {}), ...(consistency ? { consistency } : {}) }, objectWith<{ policy: RetentionPolicy | null }>({}))).policy;
  }

  /**
   * Recall from the node's index: one agent's episodes (merged from its replica set first where
   * the node holds no copy; `consistency: 'majority'` on a replica too), or every agent's when
   * `agent` is undefined (the local index only).
   */
  recall(agent: string | undefined, query: RecallQuery, consistency?: ReadConsistency): Promise<RecallHit[]> {
    return this.call(METHODS.memoryRecall, { agent, query, ...(consistency ? { consistency } : {}) }, arrayOf(objectWith<RecallHit>({ agent: 'string', score: 'number', episode: 'object' })));
  }

  /** One edit of an episode (note, tag, untag, set, incr); returns the episode afterwards. */
  annotate(agent: string, id: string, edit: AnnotateOp, consistency?: WriteConsistency): Promise<Episode> {
    return this.call(METHODS.memoryAnnotate, { agent, id, ...edit, ...(consistency ? { consistency } : {}) }, isEpisode);
  }

  /** Where `agent`'s memory is placed on the node's voter configuration (memory.placement). */
  placement(agent: string): Promise<PlacementReport> {
    return this.call(METHODS.memoryPlacement, { agent }, isPlacementReport);
  }

  /** Changes the cluster's replication factor through a configuration change (operator.replication-factor). */
  setReplicationFactor(replicationFactor: number, timeoutMs = 20_000): Promise<{ configuration: number; replicationFactor: number; changed: boolean }> {
    return this.call(
      METHODS.setReplicationFactor,
      { replicationFactor },
      objectWith<{ configuration: number; replicationFactor: number; changed: boolean }>({ configuration: 'number', replicationFactor: 'number', changed: 'boolean' }),
      timeoutMs,
    );
  }

  memoryDigest(): Promise<{ digest: string; documents: number }> {
    return this.call(METHODS.memoryDigest, null, objectWith<{ digest: string; documents: number }>({ digest: 'string', documents: 'number' }));
  }

  /** Cluster-wide keyring view, per member, by key fingerprint. */
  listKeys(): Promise<KeyOpReply> {
    return this.call(METHODS.keysList, null, isKeyOpReply);
  }

  /** install | use | remove `key` (base64) on every live member; `force` skips the ordering checks. */
  changeKeys(op: KeyOp, key: string, force = false): Promise<KeyOpReply> {
    const method = op === 'install' ? METHODS.keysInstall : op === 'use' ? METHODS.keysUse : METHODS.keysRemove;
    return this.call(method, { key, force }, isKeyOpReply);
  }

  submitTask(task: NewTask): Promise<TaskView> {
    return this.call(METHODS.taskSubmit, task, isTaskView);
  }

  getTask(id: string): Promise<TaskView> {
    return this.call(METHODS.taskGet, { id }, isTaskView);
  }

  /** Every task in the table, oldest submission first, read page by page. */
  async listTasks(): Promise<TaskView[]> {
    const all: TaskView[] = [];
    for await (const items of this.taskPages({ limit: 1000 })) all.push(...items);
    return all.reverse();
  }

  /** One page of the task table, newest submission first. */
  async taskPage(q: TaskQuery = {}): Promise<Page<TaskView>> {
    const r = await this.call(METHODS.taskList, q, objectWith<{ tasks: TaskView[]; next?: string }>({ tasks: 'array' }));
    return { items: r.tasks, ...(r.next ? { next: r.next } : {}) };
  }

  taskPages(q: TaskQuery = {}): AsyncGenerator<TaskView[]> {
    return pagesOf(q, (page) => this.taskPage(page));
  }

  /** Polls until the task is done or failed, or `timeoutMs` passes (then returns its latest state). */
  async waitForTask(id: string, timeoutMs: number): Promise<TaskView> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const t = await this.getTask(id);
      if (t.status === 'done' || t.status === 'failed' || Date.now() > deadline) return t;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async close(): Promise<void> {
    await this.rpc.close();
    await this.transport.close();
  }
}
