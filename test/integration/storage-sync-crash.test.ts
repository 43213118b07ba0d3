// A real crash with the fsync off the event loop: a child process appends through the built
// SqliteStore.appendManyThenSync (commits under synchronous = NORMAL, WalSync fdatasyncs the
// write-ahead log on the thread pool), printing a batch's sequence numbers only in its synced
// callback (= acknowledged, as a replica's ack is sent only there). SIGKILLed mid-stream, the
// directory must reopen with every acknowledged row, whole. (SIGKILL proves ack-after-sync
// ordering and WAL recovery under NORMAL; power loss is what the fdatasync adds, which a test
// cannot cut the power to prove.)
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { SqliteStore } from '../../src/storage/sqlite-store.js';
import { REPO_ROOT } from './lib/run-tri.js';

const STORE_JS = resolve(REPO_ROOT, 'dist/src/storage/sqlite-store.js');

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function childScript(dir: string, checkpointEvery?: number): string {
  return `
import { writeSync } from 'node:fs';
const { SqliteStore } = await import(${JSON.stringify(pathToFileURL(STORE_JS).href)});
// No compaction: the payload is not a Yjs update, and rows are counted per document.
const store = SqliteStore.open({ dir: ${JSON.stringify(dir)}, name: 'writer', compaction: { minLogBytes: 1e12 }${checkpointEvery ? `, checkpoint: { commits: ${checkpointEvery}, bytes: 1e12 }` : ''} });
const payload = new Uint8Array(300).fill(7);
let n = 0;
const step = () => {
  // A batch of 3 rows per turn; many turns' batches share one fdatasync.
  const batch = [0, 1, 2].map((i) => ({ docId: 'doc' + ((n + i) % 4), update: payload }));
  const first = n;
  n += 3;
  store.appendManyThenSync(batch, (err) => {
    if (err) throw err;
    writeSync(1, first + ' ' + (first + 1) + ' ' + (first + 2) + '\\n'); // acknowledged only now
  });
  setImmediate(step);
};
step();
`;
}

// Checkpoints as the store takes them (every few hundred commits), and every 3 commits: the
// database file's fsync then runs on the thread pool while later batches wait (wal-checkpoint.ts).
it.each([
  ['default checkpoints', undefined],
  ['a checkpoint every 3 commits', 3],
])('keeps every row acknowledged in a synced callback after SIGKILL (%s)', async (_name, checkpointEvery) => {
  if (!existsSync(STORE_JS)) throw new Error(`${STORE_JS} does not exist: run "npm run build" before the integration tests`);
  const dir = mkdtempSync(join(tmpdir(), 'tri-sync-crash-'));
  dirs.push(dir);
  const script = join(dir, 'writer.mjs');
  writeFileSync(script, childScript(join(dir, 'data'), checkpointEvery));
  const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const lines = await new Promise<string[]>((resolvePromise, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.split('\n').length > 200 && !child.killed) child.kill('SIGKILL');
    });
    child.on('exit', (_code, signal) => {
      clearTimeout(timer);
      if (signal !== 'SIGKILL') return reject(new Error(`writer exited unexpectedly: ${err}`));
      resolvePromise(out.split('\n').slice(0, -1)); // a partial last line was not acknowledged
    });
  });
  expect(lines.length).toBeGreaterThanOrEqual(200);
  const acked = lines.flatMap((l) => l.split(' ').map(Number));
  // Row k of the stream went to doc (k % 4) as that document's (floor(k / 4) + 1)th row.
  const store = SqliteStore.open({ dir: join(dir, 'data'), name: 'writer', compaction: { minLogBytes: 1e12 } });
  try {
    const rows = new Map<string, number>();
    for (const doc of ['doc0', 'doc1', 'doc2', 'doc3']) rows.set(doc, store.docStats(doc).lastSeq);
    for (const k of acked) expect(rows.get(`doc${k % 4}`)!).toBeGreaterThanOrEqual(Math.floor(k / 4) + 1);
    // Whole batches only: a crash keeps all of a transaction's rows or none.
    const total = [...rows.values()].reduce((a, b) => a + b, 0);
    expect(total % 3).toBe(0);
  } finally {
    store.close();
  }
});
