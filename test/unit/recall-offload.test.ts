// Large agents decoded off the event loop during the recall rebuild (src/recall/agent-decode*.ts,
// recall-offload.ts, recall-rebuild.ts): the node's own document set never loads them, the rows
// are the ones an on-loop rebuild writes, a write made while the worker decodes is not lost
// (the agent is rebuilt again when the digests differ), a failed decode falls back to the event
// loop, `memory show` of an agent not reached yet waits for its (prioritised) rebuild instead of
// loading its document, and the real worker thread returns what the in-process decode does.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as Y from 'yjs';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentMemoryDoc, type Episode } from '../../crdt/index.js';
import { silentLogger } from '../../src/node/logger.js';
import { forgetEpisodes } from '../../src/memory/forget.js';
import { decodeAgent, type DecodedAgent } from '../../src/recall/agent-decode.js';
import { AgentDecoder, type AgentDecoding } from '../../src/recall/agent-decoder.js';
import { RecallIndex } from '../../src/recall/recall-index.js';
import { RecallService } from '../../src/recall/recall-service.js';
import { DurableDocSet } from '../../src/storage/durable-doc-set.js';
import { SqliteStore } from '../../src/storage/sqlite-store.js';
import { StepScheduler } from './lib/step-scheduler.js';

const AGENTS = 4;
const PER_AGENT = 300;
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Seeds AGENTS agents, then unloads them all so each has its residency record: a restart adopts them unloaded. */
function seed(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tri-recall-offload-'));
  dirs.push(dir);
  const store = SqliteStore.open({ dir, name: 'n1' });
  for (let a = 0; a < AGENTS; a++) {
    const mem = new AgentMemoryDoc({ node: 'n1', random: Math.random, agentId: `agent/a${a}` });
    for (let i = 0; i < PER_AGENT; i++) mem.addEpisode({ task: `t${i}`, outcome: 'ok', note: `agent${a} note${i} common`, tags: i % 2 ? ['odd'] : [] }, { now: 1_800_000_000_000 + i });
    store.append(`agent/a${a}`, Y.encodeStateAsUpdate(mem.doc));
  }
  const docs = new DurableDocSet(store, undefined, { budgetBytes: 1, idleMs: 0, now: () => performance.now(), evictable: () => true });
  docs.evictIdle();
  store.close();
  return dir;
}

function openNode(dir: string, file = join(dir, 'recall.db'), budgetBytes = 1) {
  const store = SqliteStore.open({ dir, name: 'n1' });
  const docs = new DurableDocSet(store, undefined, { budgetBytes, idleMs: 0, now: () => performance.now(), evictable: () => true });
  const loaded: string[] = [];
  docs.onDocCreated((id) => loaded.push(id));
  const scheduler = new StepScheduler();
  let t = 0;
  const recall = new RecallService({ docs, scheduler, file, logger: silentLogger(), now: () => ++t });
  const mem = (a: number): AgentMemoryDoc => new AgentMemoryDoc({ node: 'n1', random: Math.random, agentId: `agent/a${a}`, doc: docs.doc(`agent/a${a}`) });
  const close = (): void => {
    recall.close();
    store.close();
  };
  return { store, docs, scheduler, recall, mem, loaded, close };
}

/** Decodes in this thread, when the test says so: it reads the bytes when asked (as the worker gets them) and answers on release(). */
class HeldDecoder implements AgentDecoding {
  readonly asked: string[] = [];
  private readonly held: Array<() => void> = [];
  failNext = false;
  closed = false;
  decode(docId: string, parts: readonly Uint8Array[], onChunk: (json: string) => void): Promise<DecodedAgent> {
    this.asked.push(docId);
    const copy = parts.map((p) => new Uint8Array(p));
    const fail = this.failNext;
    this.failNext = false;
    return new Promise((resolve, reject) => {
      this.held.push(() => {
        if (fail) return reject(new Error('worker ran out of memory'));
        resolve(decodeAgent(docId, copy, onChunk, 50));
      });
    });
  }
  /** Answers every decode asked so far. */
  async release(): Promise<void> {
    for (const h of this.held.splice(0)) h();
    await new Promise((r) => setImmediate(r));
  }
  close(): void {
    this.closed = true;
  }
}

/** Runs slices (and answers the decoder between them) until the rebuild is in step. */
async function runToEnd(n: ReturnType<typeof openNode>, decoder: HeldDecoder): Promise<void> {
  for (let i = 0; i < 10_000 && n.recall.progress()?.state !== 'in-step'; i++) {
    if (n.scheduler.due.length > 0) n.scheduler.runOne();
    else await decoder.release();
    if (i % 50 === 0) await decoder.release();
  }
  expect(n.recall.progress()?.state).toBe('in-step');
}

const allRows = (n: ReturnType<typeof openNode>, agent: string): Episode[] => n.recall.page(agent, { limit: 1000 })!.items;

describe('recall rebuild with large agents decoded off the event loop', () => {
  it('writes the rows an on-loop rebuild writes, without loading any agent into the node', async () => {
    const dir = seed();
    // Reference: rebuilt on the event loop into another index file.
    const ref = openNode(dir, join(dir, 'ref.db'));
    ref.recall.open();
    const expected = Array.from({ length: AGENTS }, (_, a) => allRows(ref, `a${a}`));
    expect(expected[0]!.length).toBe(PER_AGENT);
    ref.close();

    const n = openNode(dir);
    const decoder = new HeldDecoder();
    n.recall.openInBackground({ decoder, offloadBytes: 1 });
    await runToEnd(n, decoder);
    expect(decoder.asked.sort()).toEqual(Array.from({ length: AGENTS }, (_, a) => `agent/a${a}`));
    expect(n.loaded).toEqual([]); // no agent's document was decoded on this thread
    expect(n.recall.progress()).toMatchObject({ state: 'in-step', rebuilt: AGENTS, offloads: AGENTS });
    for (let a = 0; a < AGENTS; a++) expect(allRows(n, `a${a}`)).toEqual(expected[a]);
    n.close();
    expect(decoder.closed).toBe(true);

    // The digests recorded are the documents': a restart rebuilds nothing.
    const again = openNode(dir);
    again.recall.open();
    expect(again.recall.lastOpen?.rebuilt).toBe(0);
    again.close();
  });

  it('a write made while the worker decodes is in the rows at the end (the agent is rebuilt again)', async () => {
    const dir = seed();
    const n = openNode(dir);
    const decoder = new HeldDecoder();
    n.recall.openInBackground({ decoder, offloadBytes: 1 });
    n.scheduler.runOne();
    expect(decoder.asked).toEqual(['agent/a0']); // asked; the worker read the stored bytes
    // Meanwhile a0 is written (loading it here): one episode forgotten, one added.
    const m0 = n.mem(0);
    const gone = m0.list().find((e) => e.task === 't7')!.id;
    expect(forgetEpisodes(m0, [gone])).toBe(1);
    const added = m0.addEpisode({ task: 'late', outcome: 'ok', note: 'zebra' }, { now: 1_900_000_000_000 });
    await runToEnd(n, decoder);
    const rows = allRows(n, 'a0');
    expect(rows.length).toBe(PER_AGENT);
    expect(rows.some((e) => e.id === gone)).toBe(false);
    expect(rows.some((e) => e.id === added)).toBe(true);
    expect(n.recall.recall('a0', { text: 'zebra', limit: 10 }).length).toBe(1);
    n.close();
    const again = openNode(dir);
    again.recall.open();
    expect(again.recall.lastOpen?.rebuilt).toBe(0);
    expect(allRows(again, 'a0').some((e) => e.id === gone)).toBe(false);
    again.close();
  });

  it('a failed decode rebuilds that agent on the event loop', async () => {
    const dir = seed();
    const n = openNode(dir);
    const decoder = new HeldDecoder();
    decoder.failNext = true;
    n.recall.openInBackground({ decoder, offloadBytes: 1 });
    await runToEnd(n, decoder);
    expect(n.loaded).toEqual(['agent/a0']); // the one that failed, loaded here
    for (let a = 0; a < AGENTS; a++) expect(allRows(n, `a${a}`).length).toBe(PER_AGENT);
    n.close();
  });

  it('memory show of an agent not reached yet waits for its rebuild, moved to the front, and reads the index', async () => {
    const dir = seed();
    const n = openNode(dir);
    const decoder = new HeldDecoder();
    n.recall.openInBackground({ decoder, offloadBytes: 1 });
    n.scheduler.runOne(); // a0 handed to the worker
    expect(n.recall.page('a3', { limit: 5 })).toBeUndefined(); // not vouched for yet
    let page: Episode[] | undefined;
    const shown = n.recall.pageSoon('a3', { limit: 5 }).then((p) => (page = p?.items));
    // a3 goes to the worker right after a0, before a1 and a2.
    for (let i = 0; page === undefined && i < 1000; i++) {
      await decoder.release();
      n.scheduler.runOne();
    }
    await shown;
    expect(decoder.asked.slice(0, 2)).toEqual(['agent/a0', 'agent/a3']);
    expect(page!.map((e) => e.task)).toEqual(['t299', 't298', 't297', 't296', 't295']);
    expect(n.loaded).toEqual([]);
    // A resident agent is not waited for: its page comes from the document, at once.
    n.mem(2);
    await expect(n.recall.pageSoon('a2', { limit: 1 })).resolves.toBeUndefined();
    n.close();
  });
});

describe('memory show during a rebuild that has not reached an agent already in step', () => {
  it('answers from the index without decoding that agent again', async () => {
    const dir = seed();
    const n = openNode(dir);
    const decoder = new HeldDecoder();
    n.recall.openInBackground({ decoder, offloadBytes: 1 });
    await runToEnd(n, decoder);
    n.close();
    // a0-a2 lose their digest rows (as after a crash mid-rebuild); a3 stays in step.
    const index = new RecallIndex(join(dir, 'recall.db'));
    for (const a of ['a0', 'a1', 'a2']) index.clearAgentDigest(a);
    index.close();

    const again = openNode(dir);
    const d2 = new HeldDecoder();
    again.recall.openInBackground({ decoder: d2, offloadBytes: 1 });
    const page = await again.recall.pageSoon('a3', { limit: 3 });
    expect(page?.items.map((e) => e.task)).toEqual(['t299', 't298', 't297']);
    expect(d2.asked).toEqual([]);
    expect(again.loaded).toEqual([]);
    await runToEnd(again, d2);
    expect(d2.asked.sort()).toEqual(['agent/a0', 'agent/a1', 'agent/a2']);
    again.close();
  });
});

describe('recall rebuild on the event loop', () => {
  it('unloads each document it loaded once that agent is done, whatever the budget; one already resident stays', () => {
    const dir = seed();
    const n = openNode(dir, join(dir, 'recall.db'), 1 << 30);
    n.mem(1); // resident before the rebuild: in use by someone else
    n.recall.openInBackground();
    for (let i = 0; i < 10_000 && n.recall.progress()?.state !== 'in-step'; i++) n.scheduler.runOne();
    expect(n.recall.progress()).toMatchObject({ state: 'in-step', rebuilt: AGENTS });
    expect(n.loaded.sort()).toEqual(Array.from({ length: AGENTS }, (_, a) => `agent/a${a}`));
    expect(n.docs.residentIds()).toEqual(['agent/a1']);
    for (let a = 0; a < AGENTS; a++) expect(allRows(n, `a${a}`).length).toBe(PER_AGENT);
    n.close();
  });
});

describe('AgentDecoder (worker thread)', () => {
  const built = new URL('../../dist/src/recall/agent-decode-worker.js', import.meta.url);
  it('returns the episodes and digest the in-process decode does, and reports bad bytes as an error', async () => {
    if (!existsSync(built)) {
      console.warn('SKIPPING the worker-thread test: dist/src/recall/agent-decode-worker.js is missing (run `npm run build` first)');
      return;
    }
    const mem = new AgentMemoryDoc({ node: 'n1', random: Math.random, agentId: 'agent/w' });
    for (let i = 0; i < 700; i++) mem.addEpisode({ task: `t${i}`, outcome: 'ok', note: `n${i}` }, { now: 1_800_000_000_000 + i });
    const parts = [Y.encodeStateAsUpdate(mem.doc)];
    const inline: string[] = [];
    const want = decodeAgent('agent/w', parts, (c) => inline.push(c));
    const decoder = new AgentDecoder({ workerUrl: built });
    try {
      const got: string[] = [];
      const done = await decoder.decode('agent/w', parts, (c) => got.push(c));
      expect(done).toEqual(want);
      expect(done.episodes).toBe(700);
      expect(got).toEqual(inline);
      expect(parts[0]!.byteLength).toBeGreaterThan(0); // the caller's bytes were copied, not transferred away
      await expect(decoder.decode('agent/x', [new Uint8Array([0xff, 0xff, 0xff, 0x01, 0x07])], () => undefined)).rejects.toThrow();
      // The worker survives a bad request.
      await expect(decoder.decode('agent/w', parts, () => undefined)).resolves.toEqual(want);
    } finally {
      decoder.close();
    }
  });
});
