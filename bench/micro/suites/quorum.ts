// The quorum checks every write makes: whether this node may write (the verdict over the member
// table, recomputed after a member event; the counting rule alone) and counting acknowledgements until a majority, for 5
// and 32 voters.
import { QuorumGate, type QuorumMember } from '../../../src/quorum/quorum-gate.js';
import { countedVerdict } from '../../../src/quorum/rules.js';
import type { Logger } from '../../../src/runtime/types.js';
import { rngFor } from '../gen.js';
import { consume, type MicroCase, type MicroSuite } from '../suite.js';

export const VOTER_COUNTS = [5, 32];

const silent: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, child: () => silent };

export const suite: MicroSuite = {
  name: 'quorum',
  title: 'write verdict and acknowledgement counting for 5 and 32 voters',
  build() {
    const cases: MicroCase[] = [];
    for (const n of VOTER_COUNTS) {
      const rng = rngFor(`quorum-${n}`);
      const names = Array.from({ length: n }, (_, i) => `node-${String(i).padStart(3, '0')}`);
      const self = names[0]!;
      const config = { epoch: 7, id: `7/bench`, voters: names.map((name) => ({ name, role: 'hybrid' as const })), removed: [] };
      const word = 14; // configWord(7, false)
      // Most members reachable, a few not (a flapping link or two), as a large cluster usually has.
      const members: QuorumMember[] = names.map((name, i) => ({ name, role: 'hybrid', state: 'ACTIVE', reachable: i === 0 || rng.chance(0.9), stateChangedAt: 0, configWord: word }));
      // The member table changes between writes (a new array), so the verdict is recomputed each time.
      let table = members;
      const gate = new QuorumGate(self, () => table, 30_000, silent, { load: () => JSON.stringify({ config }), save: () => undefined });
      if (!gate.verdict().writable) throw new Error(`quorum bench: ${n} voters not writable`);
      const reachable = new Set(members.filter((m) => m.reachable).map((m) => m.name));
      // Acknowledgements arrive in a shuffled order from the reachable voters.
      const ackOrders = Array.from({ length: 64 }, () => [...reachable].filter((x) => x !== self).sort(() => rng.next() - 0.5));
      let o = 0;
      cases.push(
        { name: `verdict after a member-table change (${n} voters)`, fn: () => {
            table = [...members];
            consume(gate.verdict());
          },
        },
        { name: `countedVerdict, the rule over reachable voters (${n} voters)`, fn: () => consume(countedVerdict(n, reachable.size, self, true)) },
        {
          name: `ack plan + count acks to a majority (${n} voters)`,
          fn: () => {
            const plan = gate.ackPlan();
            const acks = new Set<string>();
            const order = ackOrders[o]!;
            o = o + 1 === ackOrders.length ? 0 : o + 1;
            for (const a of order) {
              acks.add(a);
              if (plan.complete(acks)) return;
            }
            throw new Error('quorum bench: the acks never made a majority');
          },
        },
      );
    }
    return { cases };
  },
};
