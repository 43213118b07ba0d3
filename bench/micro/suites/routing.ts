// Task routing: the latency cost function over a coordinator's candidates, and each strategy's
// choice, for 32 and 1,000 members.
import { byLatencyCost, latencyCost, worstKnownRtt } from '../../../src/tasks/cost.js';
import { route } from '../../../src/tasks/routing.js';
import { candidates, rngFor } from '../gen.js';
import { consume, type MicroCase, type MicroSuite } from '../suite.js';

export const MEMBER_COUNTS = [32, 1_000];

export const suite: MicroSuite = {
  name: 'routing',
  title: 'routing cost functions and strategies over 32 and 1,000 candidates',
  build() {
    const cases: MicroCase[] = [];
    for (const n of MEMBER_COUNTS) {
      const list = candidates(n);
      const rng = rngFor(`routing-${n}`);
      const random = (): number => rng.next();
      let cursor: string | null = null;
      const label = `${n.toLocaleString('en')} candidates`;
      cases.push(
        {
          name: `latency cost of every candidate (${label})`,
          fn: () => {
            const worst = worstKnownRtt(list);
            let best = Infinity;
            for (const c of list) best = Math.min(best, latencyCost(c, worst));
            consume(best);
          },
        },
        { name: `sort by latency cost (${label})`, fn: () => consume([...list].sort(byLatencyCost(list))) },
        { name: `route local-first (${label})`, fn: () => consume(route('local-first', list, { random, payloadBytes: 200, cursor })) },
        { name: `route latency-aware (${label})`, fn: () => consume(route('latency-aware', list, { random, payloadBytes: 200, cursor })) },
        { name: `route bandwidth-aware, 1 MiB input (${label})`, fn: () => consume(route('bandwidth-aware', list, { random, payloadBytes: 1 << 20, cursor })) },
        { name: `route round-robin (${label})`, fn: () => (cursor = route('round-robin', list, { random, payloadBytes: 200, cursor }).cursor) },
      );
    }
    return { cases };
  },
};
