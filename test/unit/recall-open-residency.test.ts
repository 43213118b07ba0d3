// Opening the recall index after a restart must not load every agent's document (issue 14:
// "start-up does not load every document: restart time does not grow with the data held"). It
// did: to compare each agent's digest with the index's, it loaded the document, all of them in
// one synchronous pass with no unloading in between (1,000,000 episodes over 10,000 agents took
// the restarted node past 1.2 GB of RSS). An agent the index is in step with is now compared by the
// digest residency stored, and documents loaded to rebuild an agent leave again within the budget.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as Y from 'yjs';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentMemoryDoc } from '../../crdt/index.js';
import { silentLogger } from '../../src/node/logger.js';
import { RecallService } from '../../src/recall/recall-service.js';
import { realRuntime } from '../../src/runtime/real.js';
import { DurableDocSet } from '../../src/storage/durable-doc-set.js';
import { SqliteStore } from '../../src/storage/sqlite-store.js';

const AGENTS = 30;
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function openNode(dir: string): { store: SqliteStore; docs: DurableDocSet; recall: RecallService } {
  const store = SqliteStore.open({ dir, name: 'n1' });
  // A 1-byte budget: every idle document may be unloaded.
  const docs = new DurableDocSet(store, undefined, { budgetBytes: 1, idleMs: 0, now: () => performance.now(), evictable: () => true });
  const recall = new RecallService({ docs, scheduler: realRuntime(silentLogger()).scheduler, file: join(dir, 'recall.db'), logger: silentLogger() });
  return { store, docs, recall };
}

function close(n: ReturnType<typeof openNode>): void {
  n.recall.close();
  n.store.close();
}

describe('recall index opened after a restart, with bounded residency', () => {
  it('loads no document of an agent it is in step with, and unloads those it rebuilt', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tri-recall-open-'));
    dirs.push(dir);
    const first = SqliteStore.open({ dir, name: 'n1' });
    for (let a = 0; a < AGENTS; a++) {
      const mem = new AgentMemoryDoc({ node: 'n1', random: Math.random, agentId: `agent/a${a}` });
      for (let i = 0; i < 5; i++) mem.addEpisode({ task: `t${i}`, outcome: 'ok', note: `agent ${a} note ${i}` }, { now: 1_800_000_000_000 + i });
      first.append(`agent/a${a}`, Y.encodeStateAsUpdate(mem.doc));
    }
    first.close();

    // First start: nothing recorded yet, so the documents load; the index is built, then they go.
    const a = openNode(dir);
    a.docs.evictIdle();
    a.recall.open();
    expect(a.recall.lastOpen?.rebuilt).toBe(AGENTS);
    expect(a.docs.residentCount()).toBe(0);
    expect(a.recall.recall('a7', { text: 'note' }).length).toBeGreaterThan(0);
    close(a);

    // Restart: every document's record is current and the index is in step: nothing loads.
    const b = openNode(dir);
    expect(b.docs.residentCount()).toBe(0);
    b.recall.open();
    expect(b.recall.lastOpen?.rebuilt).toBe(0);
    expect(b.docs.residentCount()).toBe(0);
    close(b);
  });
});
