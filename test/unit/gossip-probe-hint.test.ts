// Probe hints (Swim.hintUnreachable): when the node's stream connection to a member breaks, that
// member is probed next, at once when no probe is in flight, through the whole protocol (so a hint
// alone never suspects anyone), and hints are rate-limited per member.
import { describe, expect, it } from 'vitest';
import { profile, type SwimConfig } from '../../gossip/config.js';
import { decodePacket, encodeMessage, type GossipMessage } from '../../gossip/messages.js';
import { Swim, type SwimEffect } from '../../gossip/swim.js';

const PEERS = ['a', 'b', 'c', 'd'];

function node(overrides: Partial<SwimConfig> = {}): Swim {
  let x = 7;
  const random = (): number => ((x = (x * 48271) % 2147483647) / 2147483647);
  const s = new Swim({ name: 'me', address: 'me:7946', meta: new Uint8Array(), config: profile('lan', overrides), random, now: 0 });
  for (const p of PEERS) s.receive(`${p}:7946`, encodeMessage({ type: 'alive', incarnation: 1, name: p, address: `${p}:7946`, meta: new Uint8Array() }), 0);
  return s;
}

function pings(effects: SwimEffect[]): { to: string; seq: number; target: string }[] {
  return effects.flatMap((e) =>
    e.type === 'send'
      ? decodePacket(e.packet, 1336).flatMap((m: GossipMessage) => (m.type === 'ping' ? [{ to: e.to, seq: m.seq, target: m.target }] : []))
      : [],
  );
}

/** Runs the first periodic probe (due within the first second) and acks it: the prober is idle after. */
function afterOneAckedProbe(s: Swim): string {
  const [first] = pings(s.tick(1000));
  expect(first, 'a periodic probe within the first period').toBeDefined();
  s.receive(first!.to, encodeMessage({ type: 'ack', seq: first!.seq }), 1001);
  return first!.target;
}

describe('probe hints on connection loss', () => {
  it('an idle prober pings the hinted member at once and restarts its period from there', () => {
    const s = node();
    const probed = afterOneAckedProbe(s);
    const other = PEERS.find((p) => p !== probed)!;
    const now = pings(s.hintUnreachable(other, 1200));
    expect(now).toEqual([{ to: `${other}:7946`, seq: expect.any(Number), target: other }]);
    expect(s.stats().hints).toBe(1);
    // The regular period moved: nothing more until a full period after the hinted probe.
    s.receive(`${other}:7946`, encodeMessage({ type: 'ack', seq: now[0]!.seq }), 1201);
    expect(pings(s.tick(2199))).toEqual([]);
    expect(pings(s.tick(2200))).toHaveLength(1);
  });

  it('with a probe in flight the hinted member is probed as soon as that probe is answered', () => {
    const s = node();
    const [inFlight] = pings(s.tick(1000));
    const other = PEERS.find((p) => p !== inFlight!.target)!;
    expect(pings(s.hintUnreachable(other, 1010)), 'one probe at a time').toEqual([]);
    s.receive(inFlight!.to, encodeMessage({ type: 'ack', seq: inFlight!.seq }), 1020);
    expect(s.nextDeadline(), 'due at once').toBeLessThanOrEqual(1020);
    expect(pings(s.tick(1020)).map((p) => p.target)).toEqual([other]);
  });

  it('a hint suspects nobody: an answered hinted probe leaves the member alive, a silent one is suspected only when its period ends', () => {
    const s = node();
    afterOneAckedProbe(s);
    const [hinted] = pings(s.hintUnreachable('b', 1200));
    s.receive('b:7946', encodeMessage({ type: 'ack', seq: hinted!.seq }), 1203);
    const [regular] = pings(s.tick(2300)); // the regular probe, a period after the hinted one
    s.receive(regular!.to, encodeMessage({ type: 'ack', seq: regular!.seq }), 2301);
    expect(s.member('b')?.state).toBe('alive');

    const t = 3300; // more than one period after the first hint about b
    const [silent] = pings(s.hintUnreachable('c', t));
    expect(silent?.target).toBe('c');
    s.tick(t + 999);
    expect(s.member('c')?.state, 'not before the period ends').toBe('alive');
    s.tick(t + 1000);
    expect(s.member('c')?.state).toBe('suspect');
  });

  it('ignores repeated hints within a period, ourselves, unknown and dead members, and nodes configured without hints', () => {
    const s = node();
    afterOneAckedProbe(s);
    const [first] = pings(s.hintUnreachable('a', 1200));
    s.receive('a:7946', encodeMessage({ type: 'ack', seq: first!.seq }), 1201);
    expect(pings(s.hintUnreachable('a', 1500)), 'rate limit').toEqual([]);
    expect(pings(s.hintUnreachable('me', 1500))).toEqual([]);
    expect(pings(s.hintUnreachable('nobody', 1500))).toEqual([]);
    s.receive('d:7946', encodeMessage({ type: 'dead', incarnation: 1, name: 'd', from: 'b' }), 1500);
    expect(pings(s.hintUnreachable('d', 1600))).toEqual([]);
    expect(s.stats().hints).toBe(1);

    const off = node({ probeOnConnectionLoss: false });
    afterOneAckedProbe(off);
    expect(pings(off.hintUnreachable('a', 1200))).toEqual([]);
    expect(off.stats().hints).toBe(0);
  });
});

describe('accusations of an older incarnation', () => {
  /** `me` suspects a (incarnation 2, after a metadata update) from its own failed probe at 2,200 ms. */
  function suspecting(): Swim {
    const s = node();
    s.receive('a:7946', encodeMessage({ type: 'alive', incarnation: 2, name: 'a', address: 'a:7946', meta: Uint8Array.of(1) }), 0);
    afterOneAckedProbe(s);
    expect(pings(s.hintUnreachable('a', 1200)).map((p) => p.target)).toEqual(['a']);
    s.tick(1700); // relays asked; none answer
    s.tick(2200);
    expect(s.member('a')).toMatchObject({ state: 'suspect', incarnation: 2 });
    return s;
  }

  it('confirm our own suspicion without changing the member: members that missed its last update still count', () => {
    const s = suspecting();
    // b and c never heard incarnation 2: their verdicts are about incarnation 1.
    s.receive('b:7946', encodeMessage({ type: 'dead', incarnation: 1, name: 'a', from: 'b' }), 2300);
    s.receive('c:7946', encodeMessage({ type: 'suspect', incarnation: 1, name: 'a', from: 'c' }), 2300);
    expect(s.member('a')).toMatchObject({ state: 'suspect', incarnation: 2 });
    // Two confirmations (k at 5 members) bring the timer to its minimum: 2 s after our suspicion.
    s.tick(4199);
    expect(s.member('a')?.state).toBe('suspect');
    s.tick(4200);
    expect(s.member('a')?.state).toBe('dead');
  });

  it('without them the unconfirmed timer runs far longer', () => {
    const s = suspecting();
    s.tick(10_000);
    expect(s.member('a')?.state).toBe('suspect');
  });
});
