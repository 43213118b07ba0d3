// The byte scan (crdt/update-scan.ts) must refuse exactly the updates the decoding check
// (Y.decodeUpdate + updateProblem) refuses: it replaced that check on every remote update, so an
// update it let through that the decoding check refuses could crash Yjs halfway through applying,
// and one it refused that the decoding check accepts would stall replication. Compared on valid
// updates of every content kind, on hand-made edge cases Yjs never emits, and on corrupted copies
// of them, with and without the memory schema. Run with FC_SEED=<n> to replay a failure.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as encoding from 'lib0/encoding';
import * as Y from 'yjs';
import { AgentMemoryDoc } from '../../crdt/episode-doc.js';
import { MEMORY_SCHEMA } from '../../crdt/memory-schema.js';
import { EPISODES_ROOT } from '../../crdt/schema.js';
import { DECODE_INSTEAD, scanUpdateProblem } from '../../crdt/update-scan.js';
import { updateProblem, type UpdateSchema } from '../../crdt/update-validation.js';

const SEED = Number(process.env.FC_SEED ?? 20261125);
const RUNS = Number(process.env.FC_RUNS ?? 2000);

function counter(seed: number): () => number {
  let a = seed;
  return () => ((a = (a * 48271) % 2147483647) / 2147483647);
}

/** Updates of an agent memory: every write kind, one update each, and their merge. */
function memoryUpdates(): Uint8Array[] {
  const doc = new AgentMemoryDoc({ node: 's', random: counter(7) });
  const updates: Uint8Array[] = [];
  doc.onChange((c) => updates.push(c.update));
  const id = doc.addEpisode({ task: 'task', outcome: 'ok', note: 'hällo 😀', tags: ['a', 'b'], fields: { f: { x: [1, 'y', null, true, 2.5] } } }, { now: 3 });
  doc.appendNote(id, ' world');
  doc.increment(id, 'uses', 2);
  doc.untag(id, 'a');
  doc.set(id, 'f', 2.5);
  doc.addEpisode({ task: 'second', outcome: 'failed' }, { now: 4 });
  return [...updates, Y.mergeUpdates(updates)];
}

/** Updates with the content kinds and types a memory never holds (XML, binary, embeds, formats, subdocuments). */
function foreignUpdates(): Uint8Array[] {
  const doc = new Y.Doc();
  doc.clientID = 42;
  const updates: Uint8Array[] = [];
  doc.on('update', (u: Uint8Array) => updates.push(u));
  doc.getArray('arr').insert(0, [1, 'two', { three: 3 }, new Uint8Array([4, 5])]);
  const text = doc.getText('text');
  text.insert(0, 'rich');
  text.format(0, 2, { bold: true });
  text.insertEmbed(1, { image: 'x.png' });
  const xml = doc.getXmlFragment('xml');
  const el = new Y.XmlElement('p');
  xml.insert(0, [el, new Y.XmlText('t')]);
  el.setAttribute('k', 'v');
  doc.getMap('map').set('sub', new Y.Doc({ guid: 'child' }));
  doc.getArray('arr').delete(1, 2);
  return [...updates, Y.mergeUpdates(updates)];
}

type Crafted =
  | { gc: number }
  | { skip: number }
  | { parent: string | [number, number]; sub?: string; content: ['string', string] | ['any', unknown[]] | ['deleted', number] | ['type', number, string?] };

/** A v1 update written by hand, for structs Yjs never emits: sections of [client, clock, structs]. */
function craft(sections: Array<[number, number, Crafted[]]>): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeVarUint(e, sections.length);
  for (const [client, clock, structs] of sections) {
    encoding.writeVarUint(e, structs.length);
    encoding.writeVarUint(e, client);
    encoding.writeVarUint(e, clock);
    for (const s of structs) {
      if ('gc' in s) {
        encoding.writeUint8(e, 0);
        encoding.writeVarUint(e, s.gc);
      } else if ('skip' in s) {
        encoding.writeUint8(e, 10);
        encoding.writeVarUint(e, s.skip);
      } else {
        const ref = { deleted: 1, string: 4, type: 7, any: 8 }[s.content[0]];
        encoding.writeUint8(e, ref | (s.sub !== undefined ? 32 : 0));
        if (typeof s.parent === 'string') {
          encoding.writeVarUint(e, 1);
          encoding.writeVarString(e, s.parent);
        } else {
          encoding.writeVarUint(e, 0);
          encoding.writeVarUint(e, s.parent[0]);
          encoding.writeVarUint(e, s.parent[1]);
        }
        if (s.sub !== undefined) encoding.writeVarString(e, s.sub);
        const [kind, value] = s.content;
        if (kind === 'string') encoding.writeVarString(e, value);
        else if (kind === 'deleted') encoding.writeVarUint(e, value);
        else if (kind === 'type') {
          encoding.writeVarUint(e, value);
          if (s.content[2] !== undefined) encoding.writeVarString(e, s.content[2]); // XML element and hook names
        }
        else {
          encoding.writeVarUint(e, value.length);
          for (const v of value) encoding.writeAny(e, v as never);
        }
      }
    }
  }
  encoding.writeVarUint(e, 0); // empty delete set
  return encoding.toUint8Array(e);
}

/** Hand-made edge cases: empty structs, references to skipped and non-container structs, and a valid nesting. */
function craftedUpdates(): Uint8Array[] {
  const map = (sub: string): Crafted => ({ parent: EPISODES_ROOT, sub, content: ['type', 1] });
  return [
    craft([[5, 0, [{ gc: 0 }]]]),
    craft([[5, 0, [{ skip: 0 }]]]),
    craft([[5, 0, [{ parent: EPISODES_ROOT, sub: 'k', content: ['string', ''] }]]]),
    craft([[5, 0, [{ parent: EPISODES_ROOT, sub: 'k', content: ['any', []] }]]]),
    craft([[5, 0, [{ parent: EPISODES_ROOT, sub: 'k', content: ['deleted', 0] }]]]),
    craft([[6, 0, [{ skip: 3 }, { parent: [6, 1], sub: 'x', content: ['any', [1]] }]]]),
    craft([[6, 0, [{ gc: 3 }, { parent: [6, 1], sub: 'x', content: ['any', [1]] }]]]),
    craft([[6, 0, [{ parent: EPISODES_ROOT, sub: 's', content: ['string', 'ab'] }, { parent: [6, 1], sub: 'x', content: ['any', [1]] }]]]),
    craft([[6, 0, [map('m'), { parent: [6, 0], sub: 'x', content: ['any', [1, 'two']] }, { parent: [6, 0], sub: 'y', content: ['deleted', 2] }]]]),
    craft([[6, 0, [map('m')]], [7, 0, [{ parent: [6, 0], sub: 'x', content: ['string', 'añ😀'] }]]]),
    craft([[7, 0, [{ parent: [6, 0], sub: 'x', content: ['any', [1]] }]], [6, 0, [map('m')]]]),
    craft([[6, 0, [{ parent: [6, 0], sub: 'x', content: ['any', [1]] }]]]),
    craft([[6, 0, [{ parent: 'other', sub: 'x', content: ['any', [1]] }]]]),
    craft([[6, 0, [{ parent: EPISODES_ROOT, sub: 'x', content: ['type', 0] }]]]),
    craft([[6, 0, [{ parent: EPISODES_ROOT, sub: 'x', content: ['type', 6] }]]]),
    craft([[6, 0, [{ parent: EPISODES_ROOT, sub: 'x', content: ['type', 9] }]]]),
    craft([[6, 0, [{ parent: EPISODES_ROOT, sub: 'd', content: ['deleted', 1] }, { parent: [6, 0], sub: 'x', content: ['any', [1]] }]]]),
    craft([[6, 0, [{ parent: EPISODES_ROOT, sub: 'h', content: ['type', 5, 'hook'] }, { parent: [6, 0], sub: 'x', content: ['any', [1]] }]]]),
    craft([[6, 0, [{ parent: EPISODES_ROOT, sub: 'e', content: ['type', 3, 'p'] }, { parent: [6, 0], sub: 'x', content: ['string', 'v'] }]]]),
  ];
}

const BASES = [...memoryUpdates(), ...foreignUpdates(), ...craftedUpdates()];

/** A receiver holding state of its own (and the memory root), so references can land in it. */
function receiver(): Y.Doc {
  const r = new AgentMemoryDoc({ node: 'r', random: counter(9) });
  const id = r.addEpisode({ task: 'mine', outcome: 'ok', note: 'local', tags: ['t'] }, { now: 1 });
  r.increment(id, 'uses', 1);
  return r.doc;
}

function decodingVerdict(doc: Y.Doc, update: Uint8Array, schema: UpdateSchema | undefined): 'accept' | 'refuse' {
  let decoded;
  try {
    decoded = Y.decodeUpdate(update);
  } catch {
    return 'refuse';
  }
  return updateProblem(doc, decoded, schema) === undefined ? 'accept' : 'refuse';
}

function scanVerdict(doc: Y.Doc, update: Uint8Array, schema: UpdateSchema | undefined): 'accept' | 'refuse' {
  let problem;
  try {
    problem = scanUpdateProblem(doc, update, schema);
  } catch {
    return 'refuse';
  }
  if (problem === DECODE_INSTEAD) return decodingVerdict(doc, update, schema);
  return problem === undefined ? 'accept' : 'refuse';
}

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
);

function mutate(base: Uint8Array, ms: Array<{ kind: string; at: number; bit?: number; value?: number }>): Uint8Array {
  let bytes = Array.from(base);
  for (const m of ms) {
    const at = bytes.length === 0 ? 0 : m.at % bytes.length;
    if (m.kind === 'flip' && bytes.length > 0) bytes[at] = bytes[at]! ^ (1 << m.bit!);
    else if (m.kind === 'set' && bytes.length > 0) bytes[at] = m.value!;
    else if (m.kind === 'insert') bytes.splice(at, 0, m.value!);
    else if (m.kind === 'delete') bytes.splice(at, 1);
    else if (m.kind === 'truncate') bytes = bytes.slice(0, at);
  }
  return Uint8Array.from(bytes);
}

describe('the update scan and the decoding check agree', () => {
  it('on every valid base update, with and without the memory schema', () => {
    for (const base of BASES) {
      for (const schema of [MEMORY_SCHEMA, undefined]) {
        expect(scanVerdict(receiver(), base, schema)).toBe(decodingVerdict(receiver(), base, schema));
      }
    }
    // The bases cover both verdicts and the scan's own path (not only its hand-off to decoding).
    expect(BASES.some((b) => scanVerdict(receiver(), b, MEMORY_SCHEMA) === 'accept')).toBe(true);
    expect(BASES.some((b) => scanVerdict(receiver(), b, MEMORY_SCHEMA) === 'refuse')).toBe(true);
    expect(BASES.some((b) => scanUpdateProblem(receiver(), b, MEMORY_SCHEMA) === undefined)).toBe(true);
  });

  it('on corrupted copies of them', () => {
    fc.assert(
      fc.property(fc.nat({ max: BASES.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 4 }), fc.boolean(), (i, ms, withSchema) => {
        const bytes = mutate(BASES[i]!, ms);
        const schema = withSchema ? MEMORY_SCHEMA : undefined;
        expect(scanVerdict(receiver(), bytes, schema)).toBe(decodingVerdict(receiver(), bytes, schema));
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 200 }), fc.boolean(), (bytes, withSchema) => {
        const schema = withSchema ? MEMORY_SCHEMA : undefined;
        expect(scanVerdict(receiver(), bytes, schema)).toBe(decodingVerdict(receiver(), bytes, schema));
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });
});
