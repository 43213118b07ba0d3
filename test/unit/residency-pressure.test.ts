// Residency under pressure (src/storage/residency.ts): documents used within idleMs are unloaded
// too, least recently used first, while the budget is exceeded, so a load that touches more
// documents per idleMs than the budget holds does not keep them all; a large document in use
// stays. Before, every document used in the last 2 s stayed, and the soak's RSS grew with them.
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { DurableDocSet } from '../../src/storage/durable-doc-set.js';
import { MemoryStore } from '../../src/storage/memory-store.js';

function fill(docs: DurableDocSet, id: string, bytes: number): void {
  const doc = docs.doc(id);
  doc.getText('t').insert(0, 'x'.repeat(bytes));
}

describe('residency under pressure', () => {
  it('unloads recently used small documents, oldest first, until the estimate fits; keeps a large one in use', () => {
    let now = 0;
    const store = new MemoryStore({ nodeId: 'n', name: 'n' });
    // Each 1 KB document is estimated at 26 KB + 10 KB = 36 KB; the budget holds about 10 of them.
    const docs = new DurableDocSet(store, undefined, { budgetBytes: 400 * 1024, idleMs: 2000, now: () => now, evictable: (id) => id.startsWith('agent/') });
    for (let k = 0; k < 20; k++) {
      now = k; // all used within the last 2 s
      fill(docs, `agent/a${k}`, 1024);
    }
    now = 100;
    const evicted = docs.evictIdle();
    expect(evicted).toBeGreaterThanOrEqual(9);
    const left = docs.residentIds();
    expect(left.length).toBeLessThanOrEqual(11);
    // The most recently used ones stayed.
    expect(left).toContain('agent/a19');
    expect(left).not.toContain('agent/a0');
    // Unloaded documents read back whole.
    expect(docs.doc('agent/a0').getText('t').length).toBe(1024);

    // A document larger than an eighth of the budget, in use, stays even though it alone exceeds it.
    const big = new DurableDocSet(new MemoryStore({ nodeId: 'm', name: 'm' }), undefined, { budgetBytes: 400 * 1024, idleMs: 2000, now: () => now, evictable: () => true });
    fill(big, 'agent/big', 64 * 1024);
    now = 1000;
    expect(big.evictIdle()).toBe(0);
    now = 5000; // idle now: it goes
    expect(big.evictIdle()).toBe(1);
    expect(Y.encodeStateAsUpdate(big.doc('agent/big')).length).toBeGreaterThan(64 * 1024);
  });

  it('unloads documents with nothing held for the group commit while another has updates held', () => {
    let now = 0;
    const store = new MemoryStore({ nodeId: 'n', name: 'n' });
    const docs = new DurableDocSet(store, undefined, { budgetBytes: 1, idleMs: 0, now: () => now, evictable: () => true });
    for (let k = 0; k < 5; k++) fill(docs, `agent/a${k}`, 100);
    docs.hold();
    fill(docs, 'agent/a4', 50); // held, not yet in the store
    now = 10;
    expect(docs.evictIdle()).toBe(4); // before, a single held update stopped the whole pass
    expect(docs.residentIds()).toEqual(['agent/a4']);
    expect(docs.doc('agent/a0').getText('t').length).toBe(100);
    docs.commit();
    now = 20;
    expect(docs.evictIdle()).toBe(2);
    expect(docs.doc('agent/a4').getText('t').length).toBe(150);
  });
});
