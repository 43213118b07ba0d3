// Recall queries on a node's recall index (SQLite FTS5 with bm25, tag and field side tables):
// 10,000 episodes over 50 agents with notes drawn from a Zipf-like vocabulary (a few common
// words, many rare ones, as real notes), queried as agents ask: one agent's memory by text, by
// text with tag, outcome and time filters, and every agent's memory by text. Each call takes the
// next of 256 seeded queries, so SQLite's page cache is warm but the words change.
import type { Episode } from '../../../crdt/index.js';
import { RecallIndex } from '../../../src/recall/recall-index.js';
import type { RecallQuery } from '../../../src/recall/recall-query.js';
import type { Prng } from '../../../src/sim/prng.js';
import { rngFor } from '../gen.js';
import { consume, cycling, type MicroSuite } from '../suite.js';

export const EPISODES = 10_000;
/** The CI smoke pass's index (BuildContext.small). */
const SMALL_EPISODES = 500;
const AGENTS = 50;
const VOCABULARY = 5_000;
const QUERIES = 256;
const LIMIT = 10;
const T0 = Date.UTC(2026, 0, 1);
const TAGS = Array.from({ length: 20 }, (_, i) => `t${i}`);

function vocabulary(rng: Prng): string[] {
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  return Array.from({ length: VOCABULARY }, () => Array.from({ length: 4 + rng.int(6) }, () => letters[rng.int(26)]).join(''));
}

/** An index into the vocabulary, small ones far more often (log-uniform, close to Zipf). */
function zipf(rng: Prng, n: number): number {
  return Math.min(n - 1, Math.floor(Math.exp(rng.next() * Math.log(n + 1)) - 1));
}

export const suite: MicroSuite = {
  name: 'recall',
  title: `recall queries (limit ${LIMIT}) on an index of ${EPISODES.toLocaleString('en')} episodes over ${AGENTS} agents (SQLite FTS5, in memory)`,
  build({ small }) {
    const episodes = small ? SMALL_EPISODES : EPISODES;
    const rng = rngFor('recall');
    const words = vocabulary(rng);
    const text = (k: number): string => Array.from({ length: k }, () => words[zipf(rng, words.length)]).join(' ');
    const agent = (i: number): string => `agent/bench-${i}`;
    const index = new RecallIndex(':memory:');
    index.batch(() => {
      for (let i = 0; i < episodes; i++) {
        const tags = [TAGS[rng.int(TAGS.length)]!];
        if (rng.chance(0.3)) tags.push(TAGS[rng.int(TAGS.length)]!);
        const e: Episode = {
          id: `e${i}`,
          task: text(4),
          outcome: rng.chance(0.8) ? 'ok' : 'failed',
          notes: text(12 + rng.int(12)),
          tags: [...new Set(tags)].sort(),
          counters: {},
          fields: { grade: ['A', 'B', 'C'][i % 3]! },
          node: 'bench',
          createdAt: T0 + i * 1_000,
        };
        index.put(agent(i % AGENTS), e, true);
      }
    });
    if (index.episodes() !== episodes) throw new Error(`recall bench: ${index.episodes()} episodes indexed, ${episodes} written`);

    // Two words each, one common and one from the middle of the vocabulary, as a short question is.
    const queries = Array.from({ length: QUERIES }, (_, i) => ({
      agent: agent(rng.int(AGENTS)),
      text: `${words[zipf(rng, 200)]} ${words[200 + rng.int(2_000)]}`,
      tag: TAGS[i % TAGS.length]!,
      since: T0 + rng.int(episodes / 2) * 1_000,
    }));
    const one = cycling(queries);
    const filtered = cycling(queries);
    const all = cycling(queries);
    const ask = (who: string | undefined, q: RecallQuery): void => consume(index.search(who, { ...q, limit: LIMIT }));
    const size = `${episodes.toLocaleString('en')} episodes`;
    // A query set that never hits measures only the miss path: check the text queries find something.
    const hits = queries.filter((q) => index.search(q.agent, { text: q.text, limit: 1 }).length > 0).length;
    if (hits < QUERIES / 4) throw new Error(`recall bench: only ${hits} of ${QUERIES} one-agent text queries match anything`);

    return {
      cases: [
        {
          name: `one agent, text (2 words, ${size})`,
          fn: () => {
            const q = one();
            ask(q.agent, { text: q.text });
          },
        },
        {
          name: `one agent, text + tag + outcome + since (${size})`,
          fn: () => {
            const q = filtered();
            ask(q.agent, { text: q.text, tags: [q.tag], outcome: 'ok', since: q.since });
          },
        },
        {
          name: `all agents, text (2 words, ${size})`,
          fn: () => ask(undefined, { text: all().text }),
        },
      ],
      teardown: () => index.close(),
    };
  },
};
