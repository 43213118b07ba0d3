// A client of one node's RPC port, as the CLI and embedding programs use it: dials out only,
// authenticates with the cluster key (TLS-PSK, identity "client:NAME") or operator certificates,
// and speaks the JSON control-plane methods of src/rpc/methods.ts.
import { realRuntime } from '../runtime/real.js';
import { createTcpTransport, type TcpTransport } from '../transport/tcp.js';
import { createPlainSocketLayer } from '../transport/plain-socket-layer.js';
import type { SocketLayer } from '../transport/types.js';
import { Keyring, mutualTlsLayer, tlsPskLayer } from '../security/index.js';
import { RpcEndpoint } from '../rpc/endpoint.js';
import { METHODS } from '../rpc/methods.js';
import { fromJsonPayload, toJsonPayload } from '../rpc/json.js';
import { silentLogger } from '../node/logger.js';
import type { MemberView } from '../node/cluster-node.js';
import type { KeyOp, KeyOpReply } from '../node/keyring-rpc.js';
import { ConfigError } from '../errors.js';
import type { Episode } from '../../crdt/index.js';
import type { NewTask, TaskView } from '../tasks/index.js';
import type { EpisodeQuery } from '../memory/episode-page.js';
import type { RetentionPolicy } from '../memory/forget.js';
import type { TaskQuery } from '../tasks/task-page.js';
import type { Page } from '../paging.js';

export interface ClientOptions {
  /** HOST:RPC_PORT of any node. */
  at: string;
  key?: string;
  tls?: { cert: string; key: string; ca: string };
  insecure?: boolean;
  label?: string;
  timeoutMs?: number;
}

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
    return new NodeClient(transport, rpc, opts.at, opts.timeoutMs ?? 10_000);
  }

  async call<T>(method: string, args: unknown = null, timeoutMs = this.timeoutMs): Promise<T> {
    const reply = await this.rpc.call(this.at, method, toJsonPayload(args), timeoutMs);
    return fromJsonPayload<T>(reply, `reply to ${method}`);
  }

  members(): Promise<MemberView[]> {
    return this.call<MemberView[]>(METHODS.members);
  }

  addEpisode(args: { agent: string; task: string; outcome: string; note?: string; tags?: string[] }): Promise<Episode> {
    return this.call<Episode>(METHODS.memoryAdd, args);
  }

  /** Every episode of the agent, oldest first, read page by page (each reply stays small). */
  async showMemory(agent: string): Promise<Episode[]> {
    const all: Episode[] = [];
    for await (const items of this.memoryPages(agent, { limit: 1000 })) all.push(...items);
    return all.reverse();
  }

  /** One page of the agent's episodes, newest first; pass `next` as `after` for the following one. */
  async memoryPage(agent: string, q: EpisodeQuery = {}): Promise<Page<Episode>> {
    const r = await this.call<{ episodes: Episode[]; next?: string }>(METHODS.memoryShow, { ...q, agent });
    return { items: r.episodes, ...(r.next ? { next: r.next } : {}) };
  }

  /** The agent's episodes page by page, newest first. */
  async *memoryPages(agent: string, q: EpisodeQuery = {}): AsyncGenerator<Episode[]> {
    let after = q.after;
    for (;;) {
      const p = await this.memoryPage(agent, { ...q, after });
      if (p.items.length > 0) yield p.items;
      if (p.next === undefined) return;
      after = p.next;
    }
  }

  /** Forgets one episode on every replica (needs quorum); false when the agent has no such episode. */
  async forgetEpisode(agent: string, id: string): Promise<boolean> {
    return (await this.call<{ forgotten: boolean }>(METHODS.memoryForget, { agent, id })).forgotten;
  }

  /** Forgets every episode of an agent (needs quorum); resolves how many there were. */
  async dropAgent(agent: string): Promise<number> {
    return (await this.call<{ forgotten: number }>(METHODS.memoryDrop, { agent })).forgotten;
  }

  /** Sets the agent's retention policy when one is given ({} clears it); resolves the policy in force. */
  async memoryPolicy(agent: string, policy?: RetentionPolicy): Promise<RetentionPolicy | null> {
    return (await this.call<{ policy: RetentionPolicy | null }>(METHODS.memoryPolicy, { agent, ...(policy ? { policy } : {}) })).policy;
  }

  memoryDigest(): Promise<{ digest: string; documents: number }> {
    return this.call(METHODS.memoryDigest);
  }

  /** Cluster-wide keyring view, per member, by key fingerprint. */
  listKeys(): Promise<KeyOpReply> {
    return this.call<KeyOpReply>(METHODS.keysList);
  }

  /** install | use | remove `key` (base64) on every live member; `force` skips the ordering checks. */
  changeKeys(op: KeyOp, key: string, force = false): Promise<KeyOpReply> {
    const method = op === 'install' ? METHODS.keysInstall : op === 'use' ? METHODS.keysUse : METHODS.keysRemove;
    return this.call<KeyOpReply>(method, { key, force });
  }

  submitTask(task: NewTask): Promise<TaskView> {
    return this.call<TaskView>(METHODS.taskSubmit, task);
  }

  getTask(id: string): Promise<TaskView> {
    return this.call<TaskView>(METHODS.taskGet, { id });
  }

  /** Every task in the table, oldest submission first, read page by page. */
  async listTasks(): Promise<TaskView[]> {
    const all: TaskView[] = [];
    for await (const items of this.taskPages({ limit: 1000 })) all.push(...items);
    return all.reverse();
  }

  /** One page of the task table, newest submission first. */
  async taskPage(q: TaskQuery = {}): Promise<Page<TaskView>> {
    const r = await this.call<{ tasks: TaskView[]; next?: string }>(METHODS.taskList, q);
    return { items: r.tasks, ...(r.next ? { next: r.next } : {}) };
  }

  async *taskPages(q: TaskQuery = {}): AsyncGenerator<TaskView[]> {
    let after = q.after;
    for (;;) {
      const p = await this.taskPage({ ...q, after });
      if (p.items.length > 0) yield p.items;
      if (p.next === undefined) return;
      after = p.next;
    }
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
