// Awareness interest (src/yjs/awareness-interest.ts): which members have clients on which
// document, as soft state. Announcements add and remove, interests lapse without a refresh,
// members that left are dropped, the table is bounded per member, and frames that do not decode
// or break the bounds are refused.
import * as encoding from 'lib0/encoding';
import { describe, expect, it } from 'vitest';
import {
  AwarenessInterest,
  DOCS_PER_FRAME,
  INTEREST_TTL_MS,
  MAX_DOCS_PER_MEMBER,
  decodeInterest,
  encodeInterest,
  interestFrames,
} from '../../src/yjs/awareness-interest.js';
import { DecodeError } from '../../src/errors.js';

const live = ['n2', 'n3'];

describe('AwarenessInterest', () => {
  it('relays go only to members that announced clients on the document', () => {
    const t = new AwarenessInterest();
    expect(t.interested('doc/a', live, 0)).toEqual([]);
    expect(t.apply({ from: 'n2', kind: 'add', docs: ['doc/a'] }, 0)).toEqual(['doc/a']);
    expect(t.interested('doc/a', live, 1)).toEqual(['n2']);
    expect(t.interested('doc/b', live, 1)).toEqual([]);
    t.apply({ from: 'n3', kind: 'add', docs: ['doc/a', 'doc/b'] }, 1);
    expect(t.interested('doc/a', live, 2)).toEqual(['n2', 'n3']);
    t.apply({ from: 'n2', kind: 'remove', docs: ['doc/a'] }, 3);
    expect(t.interested('doc/a', live, 4)).toEqual(['n3']);
  });

  it('anyInterested: whether some member has clients on the document (the writer node then pushes before its local fan-out)', () => {
    const t = new AwarenessInterest();
    expect(t.anyInterested('doc/a', 0)).toBe(false);
    t.apply({ from: 'n2', kind: 'add', docs: ['doc/a'] }, 0);
    expect(t.anyInterested('doc/a', 1)).toBe(true);
    expect(t.anyInterested('doc/b', 1)).toBe(false);
    expect(t.anyInterested('doc/a', INTEREST_TTL_MS + 1)).toBe(false); // lapsed
    t.apply({ from: 'n2', kind: 'remove', docs: ['doc/a'] }, 2);
    expect(t.anyInterested('doc/a', 3)).toBe(false);
  });

  it('says which documents are new to a member (to answer with our own interest and states), not renewals', () => {
    const t = new AwarenessInterest();
    expect(t.apply({ from: 'n2', kind: 'refresh', docs: ['doc/a', 'doc/b'] }, 0)).toEqual(['doc/a', 'doc/b']);
    expect(t.apply({ from: 'n2', kind: 'refresh', docs: ['doc/a', 'doc/c'] }, 5_000)).toEqual(['doc/c']);
    // Lapsed, then announced again: new again.
    expect(t.apply({ from: 'n2', kind: 'add', docs: ['doc/b'] }, 5_000 + INTEREST_TTL_MS + 1)).toEqual(['doc/b']);
  });

  it('an interest not refreshed within the TTL lapses; a member no longer alive is dropped', () => {
    const t = new AwarenessInterest();
    t.apply({ from: 'n2', kind: 'add', docs: ['doc/a'] }, 0);
    t.apply({ from: 'n3', kind: 'add', docs: ['doc/a'] }, 0);
    t.apply({ from: 'n2', kind: 'refresh', docs: ['doc/a'] }, 10_000);
    expect(t.interested('doc/a', live, INTEREST_TTL_MS + 1)).toEqual(['n2']);
    t.expire(INTEREST_TTL_MS + 1, new Set(live));
    expect(t.size).toBe(1);
    // n2 left the cluster: forgotten even though its interest had not lapsed.
    t.expire(INTEREST_TTL_MS + 2, new Set(['n3']));
    expect(t.size).toBe(0);
    // And a member not in the live list is never relayed to.
    t.apply({ from: 'n9', kind: 'add', docs: ['doc/a'] }, 0);
    expect(t.interested('doc/a', live, 1)).toEqual([]);
  });

  it('keeps at most MAX_DOCS_PER_MEMBER documents per member, whatever it announces', () => {
    const t = new AwarenessInterest();
    const docs = Array.from({ length: MAX_DOCS_PER_MEMBER + 500 }, (_, i) => `doc/d${i}`);
    for (let i = 0; i < docs.length; i += DOCS_PER_FRAME) t.apply({ from: 'n2', kind: 'add', docs: docs.slice(i, i + DOCS_PER_FRAME) }, 0);
    expect(t.size).toBe(MAX_DOCS_PER_MEMBER);
    // Renewing what it holds still works at the bound.
    t.apply({ from: 'n2', kind: 'refresh', docs: ['doc/d0'] }, 10_000);
    expect(t.interested('doc/d0', live, INTEREST_TTL_MS + 1)).toEqual(['n2']);
  });
});

describe('interest frames', () => {
  it('round-trip, split into frames of at most DOCS_PER_FRAME documents', () => {
    const docs = Array.from({ length: 2_500 }, (_, i) => `doc/x${i}`);
    const frames = interestFrames('n1', 'refresh', docs);
    expect(frames).toHaveLength(3);
    const back = frames.map(decodeInterest);
    expect(back.every((m) => m.from === 'n1' && m.kind === 'refresh')).toBe(true);
    expect(back.flatMap((m) => m.docs)).toEqual(docs);
    expect(interestFrames('n1', 'add', [])).toEqual([]);
  });

  it('refuses garbage, unknown kinds, too many documents and overlong ids with DecodeError', () => {
    expect(() => decodeInterest(new Uint8Array([0xff, 0xff, 0xff]))).toThrow(DecodeError);
    const kind = encoding.createEncoder();
    encoding.writeVarString(kind, 'n1');
    encoding.writeVarUint(kind, 7);
    encoding.writeVarUint(kind, 0);
    expect(() => decodeInterest(encoding.toUint8Array(kind))).toThrow(DecodeError);
    const many = encoding.createEncoder();
    encoding.writeVarString(many, 'n1');
    encoding.writeVarUint(many, 0);
    encoding.writeVarUint(many, DOCS_PER_FRAME + 1);
    expect(() => decodeInterest(encoding.toUint8Array(many))).toThrow(DecodeError);
    expect(() => decodeInterest(encodeInterest({ from: 'n1', kind: 'add', docs: ['d'.repeat(300)] }))).toThrow(DecodeError);
    const truncated = encodeInterest({ from: 'n1', kind: 'add', docs: ['doc/a', 'doc/b'] });
    expect(() => decodeInterest(truncated.subarray(0, truncated.length - 2))).toThrow(DecodeError);
  });
});
