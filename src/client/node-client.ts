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
import { ConfigError, DecodeError } from '../errors.js';
import type { Episode } from '../../crdt/index.js';
import type { NewTask, TaskView } from '../tasks/index.js';

export interface ClientOptions {
  /** HOST:RPC_PORT of any node. */
  at: string;
  key?: string;
  tls?: { cert: string; key: string; ca: string };
  insecure?: boolean;
  label?: string;
  timeoutMs?: number;
}

type JsonKind = 'string' | 'number' | 'boolean' | 'object' | 'array';

/**
 * A check that a reply is an object whose named fields have these JSON kinds. Shallow: it catches
 * a node of another version or a reply to another method, not a hostile node (the client talks
 * to the node its operator named, over TLS).
 */
function objectWith<T>(fields: Record<string, JsonKind>): (v: unknown) => v is T {
  return (v: unknown): v is T => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
    const o = v as Record<string, unknown>;
    return Object.entries(fields).every(([k, kind]) => (kind === 'array' ? Array.isArray(o[k]) : kind === 'object' ? typeof o[k] === 'object' && o[k] !== null : typeof o[k] === kind));
  };
}

function arrayOf<T>(item: (v: unknown) => v is T): (v: unknown) => v is T[] {
  return (v: unknown): v is T[] => Array.isArray(v) && v.every((x) => item(x));
}

const isEpisode = objectWith<Episode>({ id: 'string', task: 'string', outcome: 'string', tags: 'array' });
const isTaskView = objectWith<TaskView>({ id: 'string', type: 'string', status: 'string' });
const isKeyOpReply = objectWith<KeyOpReply>({ results: 'array' });

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

  /** Calls `method`; the reply must pass `shape` (a DecodeError otherwise). */
  async call<T>(method: string, args: unknown, shape: (v: unknown) => v is T, timeoutMs = this.timeoutMs): Promise<T> {
    const reply = await this.rpc.call(this.at, method, toJsonPayload(args), timeoutMs);
    const v = fromJsonPayload(reply, `reply to ${method}`);
    if (!shape(v)) throw new DecodeError(`reply to ${method} does not have the expected shape (is the node a different version?)`);
    return v;
  }

  members(): Promise<MemberView[]> {
    return this.call(METHODS.members, null, arrayOf(objectWith<MemberView>({ name: 'string', address: 'string', port: 'number', state: 'string' })));
  }

  addEpisode(args: { agent: string; task: string; outcome: string; note?: string; tags?: string[] }): Promise<Episode> {
    return this.call(METHODS.memoryAdd, args, isEpisode);
  }

  showMemory(agent: string): Promise<Episode[]> {
    return this.call(METHODS.memoryShow, { agent }, arrayOf(isEpisode));
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

  listTasks(): Promise<TaskView[]> {
    return this.call(METHODS.taskList, null, arrayOf(isTaskView));
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
