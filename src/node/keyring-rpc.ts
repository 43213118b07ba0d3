// Cluster-wide key rotation over RPC (DESIGN.md "Security"; `tri keys list|install|use|remove`).
//
// The operator's CLI calls one node with client access (`keys.list`, `keys.install`, `keys.use`,
// `keys.remove`); that node applies the change to its own keyring and fans it out to every live
// member through the member-only `keys.apply`, then reports per member what happened. Each node
// persists its keyring when it changes (start-node.ts), so a rotation survives restarts.
//
// No downtime needs the order install -> use -> remove, cluster-wide at each step:
//  - `use K` is refused unless every live member already has K installed (otherwise the members
//    without it could not open packets sealed with K and would be cut off);
//  - `remove K` is refused while K is the primary on any live member (the keyring itself refuses
//    to remove its own primary), since that member still seals its packets with K.
// `force` skips these cluster pre-checks (e.g. with a member that is down for good); members that
// cannot be reached are reported as failures either way, and the CLI exits 1.
//
// Keys travel only inside TLS (the RPC streams) and are never returned: replies name keys by their
// public fingerprint (kdf.ts keyId).
import { ConfigError, DecodeError, TriError } from '../errors.js';
import type { RpcEndpoint } from '../rpc/endpoint.js';
import { jsonObject, toJsonPayload } from '../rpc/json.js';
import { METHODS } from '../rpc/methods.js';
import { formatAddress } from '../transport/address.js';
import { keyId, parseKey, type Keyring } from '../security/index.js';
import type { MemberView } from './cluster-node.js';

export type KeyOp = 'install' | 'use' | 'remove';

/** One member's keyring, by fingerprint. */
export interface MemberKeys {
  primary: string;
  installed: string[];
}

export interface MemberKeyResult {
  node: string;
  ok: boolean;
  /** What the operation did there (e.g. false: the key was already installed). */
  changed?: boolean;
  error?: string;
  keys?: MemberKeys;
}

/** Reply of keys.install / keys.use / keys.remove / keys.list. */
export interface KeyOpReply {
  op: KeyOp | 'list';
  /** Fingerprint of the key the operation was about (absent for list). */
  keyId?: string;
  results: MemberKeyResult[];
  failed: number;
  /** For list: each key by fingerprint, on how many members it is installed and primary. */
  keys?: Array<{ keyId: string; installed: number; primary: number }>;
  members?: number;
}

/** A member's keys.apply answer, checked: `changed` and `keys` are kept only when well formed. */
function parseApplyReply(bytes: Uint8Array, what: string): { changed: boolean | undefined; keys: MemberKeys | undefined } {
  const r = jsonObject(bytes, what);
  const k = r.keys;
  let keys: MemberKeys | undefined;
  if (typeof k === 'object' && k !== null && !Array.isArray(k)) {
    const { primary, installed } = k as Record<string, unknown>;
    if (typeof primary !== 'string' || !Array.isArray(installed) || installed.length > 256 || !installed.every((x) => typeof x === 'string')) throw new DecodeError(`${what}: malformed keys`);
    keys = { primary, installed: installed.filter((x): x is string => typeof x === 'string') };
  }
  return { changed: typeof r.changed === 'boolean' ? r.changed : undefined, keys };
}

interface OpArgs {
  key?: unknown;
  force?: unknown;
}

interface ApplyArgs {
  op?: unknown;
  key?: unknown;
}

/** What the key methods need from the node; ClusterNode provides all of it. */
export interface KeyringHost {
  readonly name: string;
  readonly rpc: RpcEndpoint;
  members(): MemberView[];
}

const APPLY_TIMEOUT_MS = 5000;

/** Registers the key methods. Without a keyring (--insecure) they answer with a clear error. */
export function registerKeyringMethods(node: KeyringHost, keyring: Keyring | undefined): void {
  const noKeys = (): never => {
    throw new ConfigError('this node runs --insecure (plaintext): it has no keyring; restart the cluster with --key-file to use keys');
  };
  const local = (): MemberKeys => {
    const ids = keyring!.rawKeys().map((k) => keyId(k));
    return { primary: ids[0]!, installed: ids };
  };
  const applyLocal = (op: KeyOp | 'list', key: string | undefined): MemberKeyResult => {
    if (!keyring) noKeys();
    let changed: boolean | undefined;
    if (op === 'install') changed = keyring!.install(key!);
    else if (op === 'use') {
      changed = keyring!.primary !== key;
      keyring!.use(key!);
    } else if (op === 'remove') changed = keyring!.remove(key!);
    return { node: node.name, ok: true, changed, keys: local() };
  };

  /** Live members other than us, with their RPC address. */
  const peers = (): Array<{ name: string; rpc: string }> =>
    node
      .members()
      .filter((m) => m.name !== node.name && (m.swimState === 'alive' || m.swimState === 'suspect') && m.rpcPort > 0)
      .map((m) => ({ name: m.name, rpc: formatAddress(m.address, m.rpcPort) }));

  const fanOut = async (op: KeyOp | 'list', key: string | undefined): Promise<MemberKeyResult[]> =>
    Promise.all(
      peers().map(async (p): Promise<MemberKeyResult> => {
        try {
          const reply = await node.rpc.call(p.rpc, METHODS.keysApply, toJsonPayload({ op, key }), APPLY_TIMEOUT_MS);
          const r = parseApplyReply(reply, `keys.apply reply from ${p.name}`);
          return { node: p.name, ok: true, changed: r.changed, keys: r.keys };
        } catch (err) {
          return { node: p.name, ok: false, error: (err as Error).message };
        }
      }),
    );

  const everywhere = async (op: KeyOp | 'list', key: string | undefined, localFirst: boolean): Promise<MemberKeyResult[]> => {
    const attempt = (): MemberKeyResult => {
      try {
        return applyLocal(op, key);
      } catch (err) {
        return { node: node.name, ok: false, error: (err as Error).message };
      }
    };
    if (localFirst) {
      const mine = attempt();
      return sortResults([mine, ...(await fanOut(op, key))]);
    }
    const theirs = await fanOut(op, key);
    return sortResults([attempt(), ...theirs]);
  };

  const reply = (op: KeyOp, key: string, results: MemberKeyResult[]): Uint8Array =>
    toJsonPayload({ op, keyId: keyId(parseKey(key)), results, failed: results.filter((r) => !r.ok).length } satisfies KeyOpReply);

  const opArgs = (payload: Uint8Array, what: string): { key: string; force: boolean } => {
    if (!keyring) noKeys();
    const a: Partial<Record<keyof OpArgs, unknown>> = jsonObject(payload, `${what} arguments`, true);
    if (typeof a.key !== 'string') throw new ConfigError(`${what} needs a key: a base64 32-byte key from \`tri keys generate\``);
    const key = parseKey(a.key).toString('base64'); // ConfigError with advice when malformed
    return { key, force: a.force === true };
  };

  node.rpc.handle(METHODS.keysApply, 'member', (payload) => {
    const a: Partial<Record<keyof ApplyArgs, unknown>> = jsonObject(payload, 'keys.apply arguments', true);
    if (a.op !== 'list' && a.op !== 'install' && a.op !== 'use' && a.op !== 'remove') throw new ConfigError(`keys.apply: unknown operation ${JSON.stringify(a.op)}`);
    let key: string | undefined;
    if (a.op !== 'list') {
      if (typeof a.key !== 'string') throw new ConfigError('keys.apply needs a key');
      key = parseKey(a.key).toString('base64');
    }
    return toJsonPayload(applyLocal(a.op, key));
  });

  node.rpc.handle(METHODS.keysList, 'client', async () => {
    if (!keyring) noKeys();
    const results = await everywhere('list', undefined, true);
    const counts = new Map<string, { installed: number; primary: number }>();
    for (const r of results) {
      for (const id of r.keys?.installed ?? []) {
        const c = counts.get(id) ?? { installed: 0, primary: 0 };
        c.installed++;
        if (r.keys!.primary === id) c.primary++;
        counts.set(id, c);
      }
    }
    const keys = [...counts].map(([id, c]) => ({ keyId: id, ...c })).sort((a, b) => b.primary - a.primary || b.installed - a.installed || a.keyId.localeCompare(b.keyId));
    return toJsonPayload({ op: 'list', results, failed: results.filter((r) => !r.ok).length, keys, members: results.length } satisfies KeyOpReply);
  });

  node.rpc.handle(METHODS.keysInstall, 'client', async (payload) => {
    const { key } = opArgs(payload, 'keys install');
    return reply('install', key, await everywhere('install', key, true));
  });

  node.rpc.handle(METHODS.keysUse, 'client', async (payload) => {
    const { key, force } = opArgs(payload, 'keys use');
    const id = keyId(parseKey(key));
    if (!keyring!.has(key)) {
      throw new ConfigError(`key ${id} is not installed on ${node.name}: run \`tri keys install KEY\` first (it installs on every member)`);
    }
    if (!force) {
      const listed = await fanOut('list', undefined);
      const missing = listed.filter((r) => !r.ok || !r.keys!.installed.includes(id));
      if (missing.length > 0) {
        throw new TriError(
          `refusing to use key ${id}: ${describe(missing, 'does not have it installed')}. ` +
            'Run `tri keys install KEY` again until every member has it (or pass --force if a member is gone for good)',
        );
      }
    }
    return reply('use', key, await everywhere('use', key, true));
  });

  node.rpc.handle(METHODS.keysRemove, 'client', async (payload) => {
    const { key, force } = opArgs(payload, 'keys remove');
    const id = keyId(parseKey(key));
    if (keyring!.primary === key) {
      throw new ConfigError(`key ${id} is the primary key on ${node.name} and cannot be removed: \`tri keys use\` another installed key first`);
    }
    if (!force) {
      const listed = await fanOut('list', undefined);
      const primaryThere = listed.filter((r) => !r.ok || r.keys!.primary === id);
      if (primaryThere.length > 0) {
        throw new TriError(
          `refusing to remove key ${id}: ${describe(primaryThere, 'still uses it as the primary')}. ` +
            'Run `tri keys use NEWKEY` until every member uses the new key (or pass --force if a member is gone for good)',
        );
      }
    }
    // Members first, ourselves last: removing the key here cuts connections keyed with it
    // (possibly the caller's own), after a grace that lets this reply get out.
    return reply('remove', key, await everywhere('remove', key, false));
  });
}

function describe(rs: MemberKeyResult[], what: string): string {
  return rs.map((r) => (r.ok ? `${r.node} ${what}` : `${r.node} did not answer (${r.error})`)).join('; ');
}

function sortResults(rs: MemberKeyResult[]): MemberKeyResult[] {
  return rs.sort((a, b) => a.node.localeCompare(b.node));
}
