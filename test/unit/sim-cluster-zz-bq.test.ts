import { it, expect } from 'vitest';
import { BroadcastQueue as New } from '../../gossip/broadcast-queue.js';
import { BroadcastQueue as Old } from './zz-bq-orig.js';
import { createPrng } from '../../src/sim/prng.js';
it('same as old', () => {
  for (let run = 0; run < 300; run++) {
    const r = createPrng(run);
    const a = new Old(); const b = new New();
    const cost = (x: Uint8Array) => x.length + 1;
    for (let step = 0; step < 400; step++) {
      const op = r.int(10);
      if (op < 5) {
        const kinds = ['alive', 'suspect', 'dead'] as const;
        const f = { kind: kinds[r.int(3)]!, subject: `s${r.int(30)}`, from: `f${r.int(3)}`, bytes: new Uint8Array(5 + r.int(60)).fill(step & 255) };
        a.enqueue(f); b.enqueue(f);
      } else if (op < 9) {
        const budget = r.int(300); const limit = 1 + r.int(6); const maxItems = 1 + r.int(10);
        const x = a.take(budget, limit, cost, maxItems); const y = b.take(budget, limit, cost, maxItems);
        expect(y, `run ${run} step ${step}`).toEqual(x);
      } else {
        const s = `s${r.int(30)}`; a.forget(s); b.forget(s);
      }
      expect(b.size()).toBe(a.size());
    }
  }
});
