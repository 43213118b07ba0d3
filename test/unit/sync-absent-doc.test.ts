// A replica that has no copy of a document must get it, even when the document is empty (a task
// shard its scheduler opened, nothing written yet). An unknown document digests as an empty one,
// so "absent" and "empty" look equal by digest; anti-entropy started by the node that lacks the
// document, and the hold-check a handoff asks a continuing replica, must still tell them apart
// (the fuzzer's move-incomplete: tasks/<agent> missing on one replica of its set for 30 s).
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { compareHeld, holdSnapshot } from '../../src/memory/hold-check.js';
import { LoopbackNet } from '../../src/sync/loopback.js';
import { YDocSet } from '../../src/sync/ydoc-set.js';

const SHARD = 'tasks/agent-7';

/** a holds SHARD opened but empty (and `written` written); b holds only `written`. */
function setup(): LoopbackNet<YDocSet> {
  const a = new YDocSet();
  const b = new YDocSet();
  a.doc(SHARD); // opened by its scheduler: held, nothing in it
  for (const docs of [a, b]) docs.doc('agent/agent-7').getMap('episodes').set('e1', 'same');
  const n = new LoopbackNet<YDocSet>();
  n.add('a', a);
  n.add('b', b);
  return n;
}

describe('a node without a copy gets an empty document by anti-entropy', () => {
  it('when the node that lacks it starts the round', () => {
    const n = setup();
    expect(n.node('b').docs.has(SHARD)).toBe(false);
    n.antiEntropy('b', 'a');
    n.run();
    expect(n.node('b').docs.has(SHARD)).toBe(true);
    expect(Buffer.from(n.node('b').engine.rootDigest())).toEqual(Buffer.from(n.node('a').engine.rootDigest()));
  });

  it('when the holder starts the round', () => {
    const n = setup();
    n.antiEntropy('a', 'b');
    n.run();
    expect(n.node('b').docs.has(SHARD)).toBe(true);
  });

  it('a document both hold equally is not sent again (the equal-digest skip still applies)', () => {
    const n = setup();
    n.antiEntropy('b', 'a');
    n.run();
    const sent = n.node('a').engine.stats().sentBytes + n.node('b').engine.stats().sentBytes;
    n.antiEntropy('b', 'a');
    n.run();
    const again = n.node('a').engine.stats().sentBytes + n.node('b').engine.stats().sentBytes - sent;
    expect(again).toBeLessThan(64); // the in-sync probe only
  });
});

describe('hold-check: no copy is not holding, even an empty document', () => {
  it('a replica without the document answers that it does not hold it; one with an empty copy does', () => {
    const empty = holdSnapshot(new Y.Doc())!;
    expect(compareHeld(null, empty)).toEqual({ holds: false, within: true });
    expect(compareHeld(new Y.Doc(), empty)).toEqual({ holds: true, within: true });
  });
});
