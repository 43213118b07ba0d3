// A real crash: a child process appends with exactly SqliteStore's pragmas and schema, printing
// each sequence number once its commit returned (= acknowledged). We SIGKILL it mid-stream, then
// reopen the directory with SqliteStore: every acknowledged sequence number must be there.
// (SIGKILL proves commit-before-ack and WAL recovery; surviving power loss is what
// synchronous = FULL adds, which a test cannot cut the power to prove.)
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, expect, it } from 'vitest';
import { StorageError } from '../../src/errors.js';
import { DB_FILE, SCHEMA_SQL, SQLITE_PRAGMAS } from '../../src/storage/sqlite-schema.js';
import { SqliteStore } from '../../src/storage/sqlite-store.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function childScript(dbFile: string): string {
  const sqlitePath = createRequire(import.meta.url).resolve('better-sqlite3');
  return `
import { writeSync } from 'node:fs';
import { createRequire } from 'node:module';
const Database = createRequire(${JSON.stringify(pathToFileURL(sqlitePath).href)})(${JSON.stringify(sqlitePath)});
const db = new Database(${JSON.stringify(dbFile)}, { timeout: 0 });
for (const p of ${JSON.stringify(SQLITE_PRAGMAS)}) db.pragma(p);
db.exec('BEGIN EXCLUSIVE');
db.exec(${JSON.stringify(SCHEMA_SQL)});
db.exec('COMMIT');
const ins = db.prepare('INSERT INTO update_log (doc_id, doc_seq, data) VALUES (?, ?, ?)');
const payload = Buffer.alloc(512, 7);
for (let seq = 1; ; seq++) {
  ins.run('doc', seq, payload);      // autocommit: returns after the WAL fsync
  writeSync(1, seq + '\\n');         // only now is the write acknowledged
}
`;
}

it('keeps every acknowledged append after SIGKILL, and locks out other processes meanwhile', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tri-crash-'));
  dirs.push(dir);
  const script = join(dir, 'writer.mjs');
  writeFileSync(script, childScript(join(dir, DB_FILE)));

  const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let lockedOut: unknown;
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const acked = await new Promise<number[]>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (lockedOut === undefined) {
        // The writer is running: a second process (us) must not be able to open its directory.
        try {
          SqliteStore.open({ dir, name: 'intruder' }).close();
          lockedOut = false;
        } catch (e) {
          lockedOut = e;
        }
      }
      const lines = out.split('\n');
      if (lines.length > 300 && !child.killed) {
        child.kill('SIGKILL');
      }
    });
    child.on('exit', (_code, signal) => {
      if (signal !== 'SIGKILL') return reject(new Error(`writer exited unexpectedly: ${err}`));
      // A partial last line was not fully acknowledged; keep only complete lines.
      const complete = out.split('\n').slice(0, -1);
      resolve(complete.map(Number));
    });
  });
  expect(acked.length).toBeGreaterThanOrEqual(300);
  expect(lockedOut).toBeInstanceOf(StorageError);

  const store = SqliteStore.open({ dir, name: 'after-crash' });
  try {
    const last = acked.at(-1)!;
    expect(store.docStats('doc').lastSeq).toBeGreaterThanOrEqual(last);
    expect(store.loadDoc('doc').length).toBeGreaterThanOrEqual(last);
  } finally {
    store.close();
  }
  const db = new Database(join(dir, DB_FILE), { readonly: true });
  const present = new Set(db.prepare('SELECT doc_seq FROM update_log').pluck().all() as number[]);
  db.close();
  for (const seq of acked) expect(present.has(seq)).toBe(true);
});
