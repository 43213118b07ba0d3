// Codec round trips for every sync message kind, and malformed input: truncations, bit flips and
// random bytes must raise DecodeError and nothing else.
import fc from 'fast-check';
import * as encoding from 'lib0/encoding';
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../src/errors.js';
import type { NameWriter } from '../../src/sync/doc-names.js';
import { UnknownRefError, decodeMessage, decodeMessageWithNames, encodeMessage, type SyncMessage } from '../../src/sync/messages.js';

const h = (n: number) => new Uint8Array(16).fill(n);
const samples: SyncMessage[] = [
  { kind: 'ae-root', session: 300, root: h(1) },
  { kind: 'ae-done', session: 1 },
  { kind: 'ae-groups', session: 2, hashes: Array.from({ length: 16 }, (_, i) => h(i)) },
  { kind: 'ae-buckets', session: 3, groups: [{ group: 15, hashes: Array.from({ length: 16 }, (_, i) => h(i + 1)) }] },
  { kind: 'ae-docs', session: 4, all: false, buckets: [0, 255], docs: [{ id: 'agent-ü', digest: h(9).subarray(0, 8) }] },
  { kind: 'doc-states', session: 5, mode: 'resync', entries: [{ id: 'a', sv: Uint8Array.of(0) }] },
  { kind: 'doc-deltas', session: 6, mode: 'on_demand', reply: true, entries: [{ id: 'a', update: Uint8Array.of(0, 0) }, { id: 'b', update: Uint8Array.of(0, 0), sv: Uint8Array.of(1, 5, 7) }, { id: 'c', update: Uint8Array.of(0, 0), check: new Uint8Array(4).fill(3) }] },
  { kind: 'ae-docs', session: 9, all: true, buckets: [], docs: [{ id: 'agent-1', digest: h(2).subarray(0, 8), sv: Uint8Array.of(1, 5, 7) }] },
  { kind: 'unknown-ref', requestId: 12 },
  { kind: 'update', requestId: 77, docId: 'd', update: Uint8Array.of(1, 2, 3) },
  { kind: 'ack', requestId: 77 },
  { kind: 'snapshot-request', session: 8 },
  { kind: 'snapshot-end', session: 8, docs: 512 },
  { kind: 'chunk', messageId: 1, index: 1, count: 3, payload: Uint8Array.of(4, 5) },
];

describe('sync message codecs', () => {
  it.each(samples.map((m) => [m.kind, m] as const))('round-trips %s', (_k, m) => {
    expect(decodeMessage(encodeMessage(m))).toEqual(m);
  });

  it('round-trips acks of any request id (small ones take a shortcut)', () => {
    for (const requestId of [0, 1, 127, 128, 300, 16_383, 16_384, 2 ** 31]) expect(decodeMessage(encodeMessage({ kind: 'ack', requestId }))).toEqual({ kind: 'ack', requestId });
    expect(encodeMessage({ kind: 'ack', requestId: 200 }).byteLength).toBe(3);
  });

  it('acks carry the voter-configuration word when it is not 0, one varint more', () => {
    for (const word of [1, 2, 77, 2 ** 20]) expect(decodeMessage(encodeMessage({ kind: 'ack', requestId: 5, word }))).toEqual({ kind: 'ack', requestId: 5, word });
    expect(encodeMessage({ kind: 'ack', requestId: 5, word: 0 })).toEqual(encodeMessage({ kind: 'ack', requestId: 5 }));
    expect(encodeMessage({ kind: 'ack', requestId: 5, word: 4 }).byteLength).toBe(3);
  });

  it('the ack shortcut writes exactly the bytes of the general encoding (header, varint id, varint word unless 0)', () => {
    const edges = [0, 1, 127, 128, 16_383, 16_384, 2 ** 21, 2 ** 28, 2 ** 31 - 1, 2 ** 31, 2 ** 40];
    for (const requestId of edges) {
      for (const word of [undefined, 0, ...edges]) {
        const e = encoding.createEncoder();
        encoding.writeUint8(e, encodeMessage({ kind: 'ack', requestId: 1 })[0]!);
        encoding.writeVarUint(e, requestId);
        if (word) encoding.writeVarUint(e, word);
        const bytes = encodeMessage(word === undefined ? { kind: 'ack', requestId } : { kind: 'ack', requestId, word });
        expect(bytes).toEqual(encoding.toUint8Array(e));
        expect(decodeMessage(bytes)).toEqual(word ? { kind: 'ack', requestId, word } : { kind: 'ack', requestId });
      }
    }
  });

  it('an in-sync root probe is 18 bytes', () => {
    expect(encodeMessage({ kind: 'ae-root', session: 1, root: h(0) }).byteLength).toBe(18);
  });

  it('rejects every truncation and trailing garbage with DecodeError', () => {
    // (An update's bytes run to the end of its message, so a cut update message decodes to a cut
    // update, which the engine then rejects: see sync-engine "malformed messages".)
    for (const m of samples.filter((x) => x.kind !== 'update')) {
      const bytes = encodeMessage(m);
      for (let n = 0; n < bytes.length; n++) expect(() => decodeMessage(bytes.subarray(0, n))).toThrow(DecodeError);
      expect(() => decodeMessage(Uint8Array.of(...bytes, 0))).toThrow(DecodeError);
    }
  });

  it('does not read past a subarray into its parent buffer', () => {
    const whole = encodeMessage({ kind: 'doc-deltas', session: 1, mode: 'delta_only', reply: false, entries: [{ id: 'd', update: new Uint8Array(50) }] });
    // A view that ends early: the length prefix claims more than the view holds.
    expect(() => decodeMessage(whole.subarray(0, 20))).toThrow(DecodeError);
  });

  it('throws only DecodeError on random and mutated input', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(samples.length - 1), fc.nat(), fc.integer({ min: 0, max: 255 }), (junk, i, pos, val) => {
        const mutated = encodeMessage(samples[i]!).slice();
        mutated[pos % mutated.length] = val;
        for (const input of [junk, mutated]) {
          try {
            decodeMessage(input);
          } catch (err) {
            if (!(err instanceof DecodeError)) throw err;
          }
        }
      }),
      { numRuns: 2000, seed: 42 },
    );
  });

  it('writes document ids by number once defined, scoped by the sender epoch', () => {
    const epoch = 0xdeadbe01;
    const define: NameWriter = { epoch, plan: () => ({ ref: 5, defined: true }) };
    const byRef: NameWriter = { epoch, plan: () => ({ ref: 5, defined: false }) };
    const m: SyncMessage = { kind: 'update', requestId: 300, docId: 'agent/planner-1', update: Uint8Array.of(0, 0) };
    const full = decodeMessageWithNames(encodeMessage(m, define));
    expect(full).toEqual({ msg: m, epoch, defs: [[5, 'agent/planner-1']] });
    const short = encodeMessage(m, byRef);
    expect(short.byteLength).toBe(1 + 1 + 2 + 1 + 2); // header, tag, request id, number, update
    const table = new Map([[5, 'agent/planner-1']]);
    expect(decodeMessage(short, { table: (e, tag) => (e === undefined && tag === (epoch & 0xff) ? table : undefined) })).toEqual(m);
    // Without a table (or with an ambiguous tag) the number is never guessed.
    let err: unknown;
    try {
      decodeMessage(short, { table: () => undefined });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UnknownRefError);
    expect((err as UnknownRefError).requestId).toBe(300);
    expect(err).toBeInstanceOf(DecodeError);
  });

  it('rejects inconsistent chunk headers and unknown modes', () => {
    expect(() => decodeMessage(encodeMessage({ kind: 'chunk', messageId: 1, index: 3, count: 3, payload: Uint8Array.of(1) }))).toThrow(DecodeError);
    const states = encodeMessage({ kind: 'doc-states', session: 1, mode: 'delta_only', entries: [] });
    states[2] = 9; // mode byte
    expect(() => decodeMessage(states)).toThrow(/unknown mode/);
  });
});
