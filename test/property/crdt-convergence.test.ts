// Convergence of agent memory under an unreliable network: 3-7 replicas perform random
// operations of every kind while updates are delivered in random order, duplicated or
// dropped. After a final anti-entropy exchange (state vector -> deltaSince) every replica
// must hold the same state by every measure we have, and no increment or note may be lost.
// Replay a failure with FC_SEED=<seed> (printed on failure); FC_RUNS=<n> for longer runs.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { docDigestHex } from '../../crdt/doc-digest.js';
import { AgentMemoryDoc } from '../../crdt/episode-doc.js';
import type { Json } from '../../crdt/json.js';
import { seeded } from '../lib/seeded.js';

const SEED = Number(process.env.FC_SEED ?? 1125);
const RUNS = Number(process.env.FC_RUNS ?? 150);

type Op =
  | { kind: 'add'; r: number; tags: string[] }
  | { kind: 'note'; r: number; ep: number; text: string }
  | { kind: 'inc'; r: number; ep: number; name: string; by: number }
  | { kind: 'tag'; r: number; ep: number; tag: string }
  | { kind: 'untag'; r: number; ep: number; tag: string }
  | { kind: 'set'; r: number; ep: number; field: string; value: Json }
  | { kind: 'deliver'; r: number; pick: number; duplicate: boolean }
  | { kind: 'drop'; r: number; pick: number };

const r = fc.nat(6);
const ep = fc.nat(20);
const tag = fc.constantFrom('a', 'b', 'c');
const json: fc.Arbitrary<Json> = fc.oneof(fc.integer(), fc.string({ maxLength: 4 }), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 3 }));
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('add' as const), r, tags: fc.array(tag, { maxLength: 2 }) }),
  fc.record({ kind: fc.constant('note' as const), r, ep, text: fc.string({ minLength: 1, maxLength: 5 }) }),
  fc.record({ kind: fc.constant('inc' as const), r, ep, name: fc.constantFrom('uses', 'hits'), by: fc.integer({ min: -3, max: 5 }) }),
  fc.record({ kind: fc.constant('tag' as const), r, ep, tag }),
  fc.record({ kind: fc.constant('untag' as const), r, ep, tag }),
  fc.record({ kind: fc.constant('set' as const), r, ep, field: fc.constantFrom('grade', 'owner'), value: json }),
  fc.record({ kind: fc.constant('deliver' as const), r, pick: fc.nat(), duplicate: fc.boolean() }),
  fc.record({ kind: fc.constant('deliver' as const), r, pick: fc.nat(), duplicate: fc.boolean() }),
  fc.record({ kind: fc.constant('drop' as const), r, pick: fc.nat() }),
);

/** Port of yjs/testHelper's compareStructStores (that module needs y-protocols, not installed). */
function compareStructStores(a: Y.Doc, b: Y.Doc): void {
  const same = (x: Y.ID | null, y: Y.ID | null): boolean => (x === null ? y === null : y !== null && Y.compareIDs(x, y));
  expect(a.store.clients.size).toBe(b.store.clients.size);
  for (const [client, s1] of a.store.clients) {
    const s2 = b.store.clients.get(client) ?? [];
    expect(s2.length, `struct count of client ${client}`).toBe(s1.length);
    s1.forEach((x, i) => {
      const y = s2[i] as Y.Item | Y.GC;
      expect(y.constructor === x.constructor && Y.compareIDs(x.id, y.id) && x.deleted === y.deleted && x.length === y.length).toBe(true);
      if (x instanceof Y.Item && y instanceof Y.Item) {
        expect(same(x.left?.lastId ?? null, y.left?.lastId ?? null)).toBe(true);
        expect(same(x.right?.id ?? null, y.right?.id ?? null)).toBe(true);
        expect(same(x.origin, y.origin) && same(x.rightOrigin, y.rightOrigin) && x.parentSub === y.parentSub).toBe(true);
      }
    });
  }
}

function runScenario(n: number, seed: number, ops: Op[]): void {
  const docs = Array.from({ length: n }, (_, i) => new AgentMemoryDoc({ node: `n${i}`, random: seeded(seed * 31 + i), agentId: 'ag' }));
  const inbox: Uint8Array[][] = docs.map(() => []);
  docs.forEach((d, i) =>
    d.onChange((c) => {
      if (c.local) inbox.forEach((box, j) => j !== i && box.push(c.update));
    }),
  );
  const counterTotals = new Map<string, number>();
  const noteLengths = new Map<string, number>();
  const tagged = new Set<string>();
  const untagged = new Set<string>();
  const fieldsSet = new Set<string>();
  let now = 0;
  // Two episodes every replica knows from the start, so concurrent writes to one episode
  // are common rather than rare.
  const seedDoc = docs[0] as AgentMemoryDoc;
  for (let k = 0; k < 2; k++) noteLengths.set(seedDoc.addEpisode({ task: 'seeded', outcome: 'o', tags: ['a'] }, { now: now++ }), 0);
  for (const d of docs.slice(1)) d.applyRemote(seedDoc.deltaSince(d.stateVector()), 'bootstrap');
  inbox.forEach((box) => box.splice(0));
  for (const o of ops) {
    const doc = docs[o.r % n] as AgentMemoryDoc;
    const box = inbox[o.r % n] as Uint8Array[];
    if (o.kind === 'deliver' || o.kind === 'drop') {
      if (box.length === 0) continue;
      const at = o.pick % box.length;
      const update = box[at] as Uint8Array;
      if (o.kind === 'drop' || !o.duplicate) box.splice(at, 1);
      if (o.kind === 'deliver') doc.applyRemote(update, 'peer');
      continue;
    }
    if (o.kind === 'add') {
      const id = doc.addEpisode({ task: 't', outcome: 'o', tags: o.tags }, { now: now++ });
      noteLengths.set(id, 0);
      continue;
    }
    const known = doc.list();
    if (known.length === 0) continue;
    const id = (known[o.ep % known.length] as { id: string }).id;
    if (o.kind === 'note') {
      doc.appendNote(id, o.text);
      noteLengths.set(id, (noteLengths.get(id) ?? 0) + o.text.length);
    } else if (o.kind === 'inc') {
      doc.increment(id, o.name, o.by);
      const key = `${id}/${o.name}`;
      counterTotals.set(key, (counterTotals.get(key) ?? 0) + o.by);
    } else if (o.kind === 'tag') {
      doc.tag(id, o.tag);
      tagged.add(`${id}/${o.tag}`);
    } else if (o.kind === 'untag') {
      doc.untag(id, o.tag);
      untagged.add(`${id}/${o.tag}`);
    } else {
      doc.set(id, o.field, o.value);
      fieldsSet.add(`${id}/${o.field}`);
    }
  }

  // Heal: anti-entropy rounds between every ordered pair until nothing moves.
  for (let round = 0; round < 3; round++) {
    for (const a of docs) for (const b of docs) if (a !== b) b.applyRemote(a.deltaSince(b.stateVector()), 'heal');
  }

  const first = docs[0] as AgentMemoryDoc;
  const listing = JSON.stringify(first.list());
  for (const d of docs) {
    expect(d.doc.store.pendingStructs).toBeNull();
    expect(d.doc.store.pendingDs).toBeNull();
    expect(Buffer.from(d.stateVector()).toString('hex')).toBe(Buffer.from(first.stateVector()).toString('hex'));
    expect(JSON.stringify(d.list())).toBe(listing);
    expect(docDigestHex(d.doc)).toBe(docDigestHex(first.doc));
    expect(Buffer.from(Y.encodeStateAsUpdate(d.doc)).equals(Buffer.from(Y.encodeStateAsUpdate(first.doc)))).toBe(true);
    compareStructStores(d.doc, first.doc);
  }
  // Nothing lost: every increment counted once, every appended character present.
  for (const e of first.list()) {
    expect(e.notes.length).toBe(noteLengths.get(e.id));
    for (const [name, value] of Object.entries(e.counters)) expect(value).toBe(counterTotals.get(`${e.id}/${name}`));
  }
  // A tag added and never untagged anywhere stays; a field once set never vanishes.
  for (const key of tagged) {
    const [id, t] = key.split('/') as [string, string];
    if (!untagged.has(key)) expect(first.get(id)?.tags).toContain(t);
  }
  for (const key of fieldsSet) {
    const [id, f] = key.split('/') as [string, string];
    expect(first.get(id)?.fields).toHaveProperty(f);
  }
  for (const [key, total] of counterTotals) {
    const [id, name] = key.split('/') as [string, string];
    expect(first.get(id)?.counters[name] ?? 0).toBe(total);
  }
}

describe('agent memory convergence', () => {
  it(`replicas converge under reordering, duplication and loss (seed ${SEED})`, () => {
    try {
      fc.assert(
        fc.property(fc.integer({ min: 3, max: 7 }), fc.nat(1_000_000), fc.array(op, { minLength: 1, maxLength: 80 }), runScenario),
        { seed: SEED, numRuns: RUNS },
      );
    } catch (err) {
      console.error(`convergence property failed; replay with FC_SEED=${SEED} npx vitest run test/property/crdt-convergence`);
      throw err;
    }
  });
});
