// admitOrWait (src/memory/adoption-wait.ts) and QuorumGate.adoptingVoters: a write refused only
// because voters are alive on another configuration word waits for them, bounded; any other
// refusal is thrown at once, and a writable node never waits.
import { describe, expect, it } from 'vitest';
import { ConfigError, QuorumError } from '../../src/errors.js';
import { ADOPTION_WAIT_MS, admitOrWait } from '../../src/memory/adoption-wait.js';
import { QuorumGate, type QuorumMember } from '../../src/quorum/quorum-gate.js';
import { configWord, type VoterConfig } from '../../src/quorum/voter-config.js';
import type { Logger, Scheduler } from '../../src/runtime/types.js';

/** A manual clock and scheduler: advance(ms) runs what is due. */
function manual(): { scheduler: Scheduler; now: () => number; advance: (ms: number) => Promise<void> } {
  let t = 0;
  let timers: Array<{ at: number; fn: () => void }> = [];
  return {
    now: () => t,
    scheduler: {
      schedule(delayMs, fn) {
        const timer = { at: t + Math.max(0, delayMs), fn };
        timers.push(timer);
        return () => (timers = timers.filter((x) => x !== timer));
      },
    },
    async advance(ms) {
      const end = t + ms;
      for (;;) {
        const due = timers.filter((x) => x.at <= end).sort((a, b) => a.at - b.at)[0];
        if (!due) break;
        timers = timers.filter((x) => x !== due);
        t = due.at;
        due.fn();
        await Promise.resolve();
      }
      t = end;
    },
  };
}

const refusal = (): QuorumError => new QuorumError('no reachable majority', { reachable: 1, voters: 3 });

describe('admitOrWait', () => {
  it('admitted now: undefined, no wait', () => {
    const m = manual();
    expect(admitOrWait(() => undefined, () => true, m.scheduler, m.now)).toBeUndefined();
  });

  it('refused for another reason: throws at once', () => {
    const m = manual();
    expect(() => admitOrWait(() => { throw refusal(); }, () => false, m.scheduler, m.now)).toThrow(QuorumError);
    expect(() => admitOrWait(() => { throw new ConfigError('bad'); }, () => true, m.scheduler, m.now)).toThrow(ConfigError);
  });

  it('refused while voters adopt: resolves once the check passes', async () => {
    const m = manual();
    let adopted = false;
    const p = admitOrWait(() => { if (!adopted) throw refusal(); }, () => true, m.scheduler, m.now);
    expect(p).toBeInstanceOf(Promise);
    let done = false;
    void p!.then(() => (done = true));
    await m.advance(200);
    expect(done).toBe(false);
    adopted = true;
    await m.advance(50);
    expect(done).toBe(true);
  });

  it('gives up with the refusal after the bound, or as soon as waiting cannot help', async () => {
    const m = manual();
    const p = admitOrWait(() => { throw refusal(); }, () => true, m.scheduler, m.now);
    const outcome = p!.then(() => 'resolved', (e: unknown) => (e instanceof QuorumError ? 'refused' : 'other'));
    await m.advance(ADOPTION_WAIT_MS + 100);
    expect(await outcome).toBe('refused');
    let helps = true;
    const q = admitOrWait(() => { throw refusal(); }, () => helps, m.scheduler, m.now);
    let settled: string | undefined;
    void q!.then(() => (settled = 'resolved'), () => (settled = 'refused'));
    await m.advance(100);
    await new Promise((r) => setTimeout(r, 0));
    expect(settled).toBeUndefined();
    helps = false; // the voters went away (SWIM dead): fail at the next check, not after the bound
    await m.advance(30);
    await new Promise((r) => setTimeout(r, 0));
    expect(settled).toBe('refused');
  });
});

const silent: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, child: () => silent };

describe('QuorumGate.adoptingVoters', () => {
  it('names alive voters on another configuration word (behind or pending ahead), not dead ones nor learners', () => {
    const config: VoterConfig = {
      epoch: 4,
      id: 'c4',
      voters: ['a', 'b', 'c', 'd', 'e'].map((name) => ({ name, role: 'hybrid' as const })),
      removed: [],
      replicationFactor: 3,
    };
    const row = (name: string, word: number, reachable = true): QuorumMember => ({ name, role: 'hybrid', state: 'ACTIVE', reachable, stateChangedAt: 0, configWord: word });
    const members = [row('a', configWord(4, false)), row('b', configWord(4, false)), row('c', configWord(3, false)), row('d', configWord(4, true)), row('e', configWord(3, false), false), row('l', configWord(4, false))];
    const saved = JSON.stringify({ config });
    const gate = new QuorumGate('a', () => members, 10_000, silent, { load: () => saved, save: () => undefined });
    expect(gate.voterConfig().epoch).toBe(4);
    expect([...gate.reachableVoters()].sort()).toEqual(['a', 'b']);
    expect([...gate.adoptingVoters()].sort()).toEqual(['c', 'd']);
    expect(gate.isQuorum(new Set(['a', 'b']))).toBe(false);
    expect(gate.isQuorum(new Set(['a', 'b', ...gate.adoptingVoters()]))).toBe(true);
  });
});
