// `tri snapshot save --at HOST FILE`: a consistent copy of everything one node holds (its whole
// database: every agent's memory, the task table, its keyring), taken while it runs, written to
// FILE (mode 0600: it holds the keyring). `tri snapshot restore FILE --data DIR --name NAME`: a new
// data directory from it, for a node that then joins the cluster (--join) as a new member and
// converges with it (memory merges; what the cluster wrote since the snapshot comes back by sync).
import { createHash, randomUUID } from 'node:crypto';
import { closeSync, copyFileSync, existsSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { TriError, UsageError } from '../../errors.js';
import { addClientOptions, withClient, type ClientFlags } from '../client.js';
import { checkDataDirFlag } from '../data-dir-flag.js';
import { parseNodeName, NODE_NAME_ALPHABET } from '../parse.js';
import { SNAPSHOT_METHODS, type SnapshotTaken } from '../../node/snapshot-rpc.js';
import { DB_FILE } from '../../storage/sqlite-schema.js';
import { preparePrivateDir, preparePrivateFile } from '../../storage/private-files.js';
import { objectWith } from '../../client/reply-shape.js';

/** What a restored node must not keep from the source: its identity and its voter record (it joins as a new member). */
const RESET_SQL = [
  "DELETE FROM kv WHERE key = 'quorum/voters'",
  "DELETE FROM meta WHERE key = 'incarnation'",
];

export function registerSnapshot(program: Command): void {
  const snap = program.command('snapshot').description("back up one node's data while it runs, and restore it into a new data directory");

  addClientOptions(snap.command('save').description('copy everything the node at --at holds into FILE (consistent, taken while it runs)').argument('<FILE>', 'where to write the snapshot (must not exist; mode 0600)')).action(
    async (file: string, f: ClientFlags) => {
      if (existsSync(file)) throw new UsageError(`${file} already exists; a snapshot never overwrites a file: remove it or choose another name`);
      const fd = openSync(file, 'wx', 0o600);
      let ok = false;
      try {
        const taken = await withClient(f, async (c) => {
          const t = await c.call(SNAPSHOT_METHODS.take, null, objectWith<SnapshotTaken>({ id: 'string', bytes: 'number', sha256: 'string', node: 'string' }));
          try {
            const hash = createHash('sha256');
            for (let off = 0; off < t.bytes; ) {
              const { data } = await c.call(SNAPSHOT_METHODS.read, { id: t.id, offset: off }, objectWith<{ data: string }>({ data: 'string' }));
              const chunk = Buffer.from(data, 'base64');
              if (chunk.length === 0) throw new TriError(`snapshot ended early at ${off} of ${t.bytes} bytes`);
              writeSync(fd, chunk, 0, chunk.length, off);
              hash.update(chunk);
              off += chunk.length;
            }
            if (hash.digest('hex') !== t.sha256) throw new TriError('the snapshot received does not match the checksum the node sent; try again');
          } finally {
            await c.call(SNAPSHOT_METHODS.done, { id: t.id }, objectWith({})).catch(() => undefined);
          }
          return t;
        });
        ok = true;
        process.stdout.write(`saved a snapshot of node ${taken.node} to ${file}: ${taken.bytes} bytes, sha256 ${taken.sha256}\n`);
      } finally {
        closeSync(fd);
        if (!ok) rmSync(file, { force: true });
      }
    },
  );

  snap
    .command('restore')
    .description('make a new data directory from a snapshot; start a node on it with --join to rejoin and converge')
    .argument('<FILE>', 'a file written by tri snapshot save')
    .requiredOption('--data <dir>', 'the new data directory (must not exist)')
    .requiredOption('--name <name>', `the node name to start it under (${NODE_NAME_ALPHABET})`, parseNodeName)
    .action(async (file: string, f: { data: string; name: string }) => {
      checkDataDirFlag(f.data);
      if (existsSync(f.data)) throw new UsageError(`--data ${f.data} already exists; restore into a new directory`);
      let header: Buffer;
      try {
        header = readFileSync(file).subarray(0, 16);
      } catch (err) {
        throw new UsageError(`cannot read ${file}: ${(err as Error).message}`);
      }
      if (header.toString('latin1') !== 'SQLite format 3\0') throw new UsageError(`${file} is not a snapshot written by tri snapshot save`);
      preparePrivateDir(f.data);
      const db = join(f.data, DB_FILE);
      try {
        copyFileSync(file, db);
        preparePrivateFile(db);
        const { default: Database } = await import('better-sqlite3');
        const d = new Database(db);
        try {
          d.transaction(() => {
            for (const sql of RESET_SQL) d.exec(sql);
            const set = d.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value');
            set.run('name', f.name);
            set.run('node_id', randomUUID());
          })();
        } finally {
          d.close();
        }
      } catch (err) {
        rmSync(f.data, { recursive: true, force: true });
        throw new TriError(`cannot restore ${file}: ${(err as Error).message}`, { cause: err });
      }
      process.stdout.write(`restored ${file} into ${f.data} as node ${f.name}; start it with: tri node start --name ${f.name} --data ${f.data} --join SEED ...\n`);
    });
}
