// `tri memory show` from the recall index (src/recall/index-page.ts) must answer what the page
// read from the document answers (src/memory/episode-page.ts): same episodes, same order (ties of
// creation time included), same filters and cursor, across every page of random queries.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { AgentMemoryDoc, type Episode } from '../../crdt/index.js';
import { episodePage, type EpisodeQuery } from '../../src/memory/episode-page.js';
import { forgetEpisodes } from '../../src/memory/forget.js';
import { indexPage } from '../../src/recall/index-page.js';
import { RecallIndex } from '../../src/recall/recall-index.js';
import type { Page } from '../../src/paging.js';

const T0 = 1_800_000_000_000;

function build(seed: number): { mem: AgentMemoryDoc; index: RecallIndex } {
  let x = seed;
  const rnd = (): number => (x = (x * 48271) % 2147483647) / 2147483647;
  const mem = new AgentMemoryDoc({ node: 'n1', random: rnd, agentId: 'agent/a' });
  const ids: string[] = [];
  for (let i = 0; i < 300; i++) {
    // Few distinct times: many ties, ordered by id.
    const id = mem.addEpisode({ task: `t${i}`, outcome: i % 3 === 0 ? 'fail' : 'ok', note: `n${i}`, tags: i % 4 === 0 ? ['red'] : [] }, { now: T0 + Math.floor(rnd() * 40) * 1000 });
    ids.push(id);
  }
  forgetEpisodes(mem, ids.filter((_, i) => i % 7 === 0));
  const index = new RecallIndex(':memory:');
  index.batch(() => {
    for (const e of mem.list()) index.put('a', e);
    index.put('b', { ...mem.list()[0]!, id: 'ffffffffffffffff' }); // another agent's rows are not read
  });
  return { mem, index };
}

function chain(first: EpisodeQuery, read: (q: EpisodeQuery) => Page<Episode>): Episode[][] {
  const pages: Episode[][] = [];
  let after = first.after;
  for (let n = 0; n < 1000; n++) {
    const p = read({ ...first, after });
    pages.push(p.items);
    if (p.next === undefined) return pages;
    after = p.next;
  }
  throw new Error('no last page');
}

describe('memory show from the recall index', () => {
  it('answers exactly what the document answers, page after page', () => {
    const { mem, index } = build(14);
    const q = fc.record(
      {
        limit: fc.integer({ min: 1, max: 60 }),
        since: fc.integer({ min: 0, max: 40 }).map((s) => T0 + s * 1000),
        until: fc.integer({ min: 0, max: 41 }).map((s) => T0 + s * 1000),
        tag: fc.constantFrom('red', 'blue'),
        outcome: fc.constantFrom('ok', 'fail'),
      },
      { requiredKeys: ['limit'] },
    );
    fc.assert(
      fc.property(q, (query) => {
        const fromDoc = chain(query, (p) => episodePage(mem, p)).flat();
        const fromIndex = chain(query, (p) => indexPage(index, 'a', p));
        expect(fromIndex.flat()).toEqual(fromDoc);
        // Every page but the last is full, as on the document.
        for (const p of fromIndex.slice(0, -1)) expect(p.length).toBe(query.limit);
        // A cursor from one path continues on the other (any replica, either path).
        const first = episodePage(mem, query);
        if (first.next !== undefined) expect(indexPage(index, 'a', { ...query, after: first.next }).items[0]).toEqual(episodePage(mem, { ...query, after: first.next }).items[0]);
      }),
      { numRuns: 200, seed: 14 },
    );
    index.close();
  });

  it('refuses a bad query as the document path does', () => {
    const { index } = build(3);
    expect(() => indexPage(index, 'a', { limit: 0 })).toThrow(/--limit/);
    expect(() => indexPage(index, 'a', { after: 'nope' })).toThrow(/not a page cursor/);
    expect(() => indexPage(index, 'a', { tag: '' })).toThrow(/--tag/);
    index.close();
  });
});
