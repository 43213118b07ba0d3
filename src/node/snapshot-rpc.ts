// `tri snapshot save` on the node side: a consistent copy of its database (SQLite online backup,
// taken while it runs) into a private file in its data directory, read back by the client in
// chunks, then deleted. At most MAX_OPEN copies at a time, each deleted after EXPIRE_MS if the
// client never says it is done, so a client that dies leaves no growing pile of copies.
import { randomBytes, createHash } from 'node:crypto';
import { closeSync, openSync, readSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, NotFoundError } from '../errors.js';
import { intField, jsonObject, toJsonPayload } from '../rpc/json.js';
import type { ClusterNode } from './cluster-node.js';
import { METHODS } from '../rpc/methods.js';

export const SNAPSHOT_METHODS = { take: METHODS.snapshotTake, read: METHODS.snapshotRead, done: METHODS.snapshotDone } as const;
/** Bytes per read: base64 in JSON stays well under the 1 MiB frame limit. */
export const SNAPSHOT_CHUNK = 512 * 1024;
const MAX_OPEN = 2;
const EXPIRE_MS = 10 * 60_000;

export interface SnapshotTaken {
  id: string;
  bytes: number;
  sha256: string;
  node: string;
}

interface Backupable {
  backupTo(file: string): Promise<void>;
}

export function registerSnapshotMethods(node: ClusterNode, store: Partial<Backupable>, dataDir: string | undefined): void {
  const open = new Map<string, { file: string; timer: NodeJS.Timeout }>();
  const drop = (id: string) => {
    const s = open.get(id);
    if (!s) return;
    clearTimeout(s.timer);
    open.delete(id);
    rmSync(s.file, { force: true });
  };
  node.onStopped(() => {
    for (const id of [...open.keys()]) drop(id);
  });
  node.rpc.handle(SNAPSHOT_METHODS.take, 'client', async () => {
    if (!dataDir || typeof store.backupTo !== 'function') throw new ConfigError(`node ${node.name} runs without --data: it has no database to snapshot`);
    if (open.size >= MAX_OPEN) throw new ConfigError(`node ${node.name} is already sending ${open.size} snapshots; try again when they finish`);
    const id = randomBytes(8).toString('hex');
    const file = join(dataDir, `snapshot-${id}.db`);
    open.set(id, { file, timer: setTimeout(() => drop(id), EXPIRE_MS).unref() });
    try {
      await store.backupTo(file);
      const hash = createHash('sha256');
      const bytes = statSync(file).size;
      const fd = openSync(file, 'r');
      try {
        const buf = Buffer.alloc(SNAPSHOT_CHUNK);
        for (let off = 0; off < bytes; ) {
          const n = readSync(fd, buf, 0, buf.length, off);
          if (n <= 0) break;
          hash.update(buf.subarray(0, n));
          off += n;
        }
      } finally {
        closeSync(fd);
      }
      const taken: SnapshotTaken = { id, bytes, sha256: hash.digest('hex'), node: node.name };
      return toJsonPayload(taken);
    } catch (err) {
      drop(id);
      throw err;
    }
  });
  node.rpc.handle(SNAPSHOT_METHODS.read, 'client', (payload) => {
    const a = jsonObject(payload, 'snapshot read');
    const offset = intField(a, 'offset', 'snapshot read', 0, Number.MAX_SAFE_INTEGER);
    const s = open.get(String(a.id));
    if (!s) throw new NotFoundError(`no snapshot ${String(a.id)} in progress (finished, or expired after ${EXPIRE_MS / 60_000} minutes)`);
    const fd = openSync(s.file, 'r');
    try {
      const buf = Buffer.alloc(SNAPSHOT_CHUNK);
      const n = readSync(fd, buf, 0, buf.length, offset);
      return toJsonPayload({ data: buf.subarray(0, n).toString('base64') });
    } finally {
      closeSync(fd);
    }
  });
  node.rpc.handle(SNAPSHOT_METHODS.done, 'client', (payload) => {
    drop(String(jsonObject(payload, 'snapshot done').id));
    return toJsonPayload({ ok: true });
  });
}
