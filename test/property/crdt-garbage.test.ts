// Hostile and corrupted bytes on the remote-update path. Whatever arrives, applyRemoteUpdate
// either applies it cleanly or throws DecodeError with the document untouched: never another
// error type, never a hang, never half an update. Run with FC_SEED=<n> to replay a failure.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { DecodeError } from '../../src/errors.js';
import { AgentMemoryDoc } from '../../crdt/episode-doc.js';
import { applyRemoteUpdate } from '../../crdt/updates.js';
import { seeded } from '../lib/seeded.js';

const SEED = Number(process.env.FC_SEED ?? 20261125);
const RUNS = Number(process.env.FC_RUNS ?? 400);

/** A sender with every kind of write, and the updates it produced. */
function sender(): { doc: AgentMemoryDoc; updates: Uint8Array[] } {
  const doc = new AgentMemoryDoc({ node: 's', random: seeded(7) });
  const updates: Uint8Array[] = [];
  doc.onChange((c) => updates.push(c.update));
  const id = doc.addEpisode({ task: 'task', outcome: 'ok', note: 'hello', tags: ['a', 'b'], fields: { f: { x: [1, 'y'] } } }, { now: 3 });
  doc.appendNote(id, ' world');
  doc.increment(id, 'uses', 2);
  doc.untag(id, 'a');
  doc.set(id, 'f', 2.5);
  return { doc, updates };
}

/** A receiver that already holds some state of its own, so corruption can collide with it. */
function receiver(): AgentMemoryDoc {
  const r = new AgentMemoryDoc({ node: 'r', random: seeded(9) });
  const id = r.addEpisode({ task: 'mine', outcome: 'ok', note: 'local', tags: ['t'] }, { now: 1 });
  r.increment(id, 'uses', 1);
  return r;
}

function fingerprint(doc: Y.Doc): string {
  const p = doc.store;
  return `${Buffer.from(Y.encodeStateAsUpdate(doc)).toString('hex')}|${p.pendingStructs ? Buffer.from(p.pendingStructs.update).toString('hex') : '-'}|${p.pendingDs ? Buffer.from(p.pendingDs).toString('hex') : '-'}`;
}

/** Applies `bytes`; returns 'applied' or 'refused', failing the test on anything else. */
function applyOrRefuse(target: AgentMemoryDoc, bytes: Uint8Array): 'applied' | 'refused' {
  const before = fingerprint(target.doc);
  const started = performance.now();
  try {
    target.applyRemote(bytes, 'fuzz');
    target.list(); // an applied update must also leave a readable document
    return 'applied';
  } catch (err) {
    if (!(err instanceof DecodeError)) throw new Error(`non-DecodeError for ${Buffer.from(bytes).toString('hex')}: ${String(err)}`);
    expect(fingerprint(target.doc)).toBe(before);
    return 'refused';
  } finally {
    expect(performance.now() - started).toBeLessThan(1000);
  }
}

const full = Y.mergeUpdates(sender().updates);

describe('remote updates: garbage in, DecodeError out', () => {
  it('arbitrary bytes never escape as another error, never hang, never half-apply', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 300 }), (bytes) => {
        applyOrRefuse(receiver(), bytes);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('every strict prefix of a valid update is refused', () => {
    for (const update of [...sender().updates, full]) {
      for (let len = 0; len < update.byteLength; len++) {
        expect(applyOrRefuse(receiver(), update.subarray(0, len)), `prefix ${len}/${update.byteLength}`).toBe('refused');
      }
    }
  });

  it('every single-bit flip of a valid update is refused or applies cleanly', () => {
    const outcomes = { applied: 0, refused: 0 };
    for (let bit = 0; bit < full.byteLength * 8; bit++) {
      const flipped = full.slice();
      flipped[bit >> 3] = (flipped[bit >> 3] as number) ^ (1 << (bit & 7));
      outcomes[applyOrRefuse(receiver(), flipped)]++;
    }
    // Informational: a flip inside a string or number yields another valid update.
    console.log(`bit flips over ${full.byteLength} bytes:`, outcomes);
  });

  it('random byte mutations of valid updates are refused or apply cleanly, and honest updates still apply after', () => {
    const { updates } = sender();
    fc.assert(
      fc.property(
        fc.nat({ max: updates.length }),
        fc.nat(),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        (known, pick, edits) => {
          // The receiver may already hold the sender's earlier updates, so corrupted
          // references can land on structs it has.
          const target = receiver();
          for (const u of updates.slice(0, known)) target.applyRemote(u, 'sender');
          const candidates = [...updates.slice(known), full];
          const mutated = (candidates[pick % candidates.length] as Uint8Array).slice();
          for (const [at, value] of edits) mutated[at % mutated.length] = value;
          applyOrRefuse(target, mutated);
          applyOrRefuse(target, full);
        },
      ),
      { seed: SEED, numRuns: RUNS * 5 },
    );
  });

  it('the generic applyRemoteUpdate (no schema) holds the same guarantee', () => {
    fc.assert(
      fc.property(fc.nat(), fc.integer({ min: 0, max: 255 }), (at, value) => {
        const doc = receiver().doc;
        const mutated = full.slice();
        mutated[at % mutated.length] = value;
        const before = fingerprint(doc);
        try {
          applyRemoteUpdate(doc, mutated, 'fuzz');
        } catch (err) {
          expect(err).toBeInstanceOf(DecodeError);
          expect(fingerprint(doc)).toBe(before);
        }
      }),
      { seed: SEED, numRuns: RUNS * 5 },
    );
  });
});
