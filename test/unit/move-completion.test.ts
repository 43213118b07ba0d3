// Announced move completion (move-completion.ts): records of previous configurations drop on every
// node once every voter of the current configuration is done moving onto it, never before; a
// second change before that resets the tally; a crash (a fresh core) asks again from persisted
// records; a "released" teller on another configuration changes nothing.
import { describe, expect, it } from 'vitest';
import { MoveCompletion } from '../../src/memory/move-completion.js';

function node(self: string, voters: string[], epoch = 4, records = [2, 3]) {
  const state = { epoch, voters, records: [...records], settled: true, released: [] as number[] };
  const core = new MoveCompletion({
    self,
    config: () => ({ epoch: state.epoch, voters: state.voters }),
    records: () => state.records,
    settledHere: () => state.settled,
    release: (e) => {
      state.released.push(e);
      state.records = state.records.filter((r) => r >= e);
    },
  });
  return { core, state };
}

const V = ['n0', 'n1', 'n2', 'n3'];

describe('MoveCompletion', () => {
  it('asks every other voter; releases only once all said done, then names every voter to tell', () => {
    const { core, state } = node('n0', V);
    expect(core.toAsk()).toEqual(['n1', 'n2', 'n3']);
    expect(core.answer('n1', 4, { done: true, released: false })).toEqual([]);
    expect(core.answer('n2', 4, { done: false, released: false })).toEqual([]);
    expect(core.toAsk()).toEqual(['n2', 'n3']); // n1's yes is kept; n2 is asked again
    expect(core.answer('n3', 4, { done: true, released: false })).toEqual([]);
    expect(state.released).toEqual([]);
    expect(core.answer('n2', 4, { done: true, released: false })).toEqual(['n1', 'n2', 'n3']);
    expect(state.released).toEqual([4]);
    expect(state.records).toEqual([]);
    expect(core.releases).toBe(1);
    expect(core.toAsk()).toEqual([]); // nothing left to release
    expect(core.doneHere(4)).toBe(true);
  });

  it('a node not done itself asks nobody and does not release, whatever the others say', () => {
    const { core, state } = node('n0', V);
    state.settled = false;
    expect(core.toAsk()).toEqual([]);
    for (const v of ['n1', 'n2', 'n3']) core.answer(v, 4, { done: true, released: false });
    expect(state.released).toEqual([]);
    expect(core.doneHere(4)).toBe(false);
    state.settled = true;
    expect(core.toAsk()).toEqual([]); // the yeses were kept: all done now, released at once
    expect(state.released).toEqual([4]);
  });

  it('a second change before the tally completed starts over on the new configuration; old answers do not count', () => {
    const { core, state } = node('n0', V);
    core.toAsk();
    core.answer('n1', 4, { done: true, released: false });
    core.answer('n2', 4, { done: true, released: false });
    state.epoch = 5;
    state.voters = ['n0', 'n1', 'n2', 'n3', 'n4'];
    state.records = [2, 3, 4];
    expect(core.answer('n3', 4, { done: true, released: false })).toEqual([]); // an answer about configuration 4
    expect(core.toAsk()).toEqual(['n1', 'n2', 'n3', 'n4']);
    for (const v of ['n1', 'n2', 'n3']) core.answer(v, 5, { done: true, released: false });
    expect(state.released).toEqual([]);
    core.answer('n4', 5, { done: true, released: false });
    expect(state.released).toEqual([5]);
    expect(state.records).toEqual([]);
  });

  it('a teller that saw every voter done releases the receiver on the same configuration only; non-voters are ignored', () => {
    const a = node('n1', V);
    a.core.told(3);
    expect(a.state.released).toEqual([]);
    a.core.answer('n9', 4, { done: true, released: true }); // not a voter
    expect(a.state.released).toEqual([]);
    a.core.told(4);
    expect(a.state.released).toEqual([4]);
    expect(a.core.releasedAt(4)).toBe(true);
    const b = node('n2', V);
    b.core.answer('n0', 4, { done: true, released: true });
    expect(b.state.released).toEqual([4]);
  });

  it('a crash loses only the tally: a fresh core over the same persisted records asks again', () => {
    const first = node('n0', V);
    first.core.toAsk();
    first.core.answer('n1', 4, { done: true, released: false });
    const restarted = new MoveCompletion({ self: 'n0', config: () => ({ epoch: 4, voters: V }), records: () => first.state.records, settledHere: () => true, release: () => undefined });
    expect(restarted.toAsk()).toEqual(['n1', 'n2', 'n3']);
    expect(restarted.doneHere(3)).toBe(false); // not its configuration
  });
});
