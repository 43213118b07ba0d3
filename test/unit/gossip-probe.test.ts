// The probe cycle of one Swim instance, driven by hand: direct ping, indirect ping-req, nacks,
// suspicion, the relay role, the buddy rule, prioritised probing of suspects, health-stretched
// intervals, gossip to the dead and the push-pull timer.
import { describe, expect, it } from 'vitest';
import { profile } from '../../gossip/config.js';
import { decodePacket, encodeCompound, encodeMessage, type GossipMessage } from '../../gossip/messages.js';
import { Swim, type SwimEffect } from '../../gossip/swim.js';
import { seeded } from '../lib/seeded.js';

const SEED = 3;
/** A node at t=0 that knows `peers` (alive at incarnation 1, address NAME:7946). */
// memberlist's exact LAN timing (without our lower confirmed-suspicion floor), so the deadlines
// below are memberlist's numbers.
function node(peers: string[], seed = SEED): Swim {
  const s = new Swim({ name: 'me', address: 'me:7946', meta: new Uint8Array(), config: profile('lan', { suspicionMinMult: undefined }), random: seeded(seed), now: 0 });
  for (const p of peers) s.receive(`${p}:7946`, encodeMessage({ type: 'alive', incarnation: 1, name: p, address: `${p}:7946`, meta: new Uint8Array() }), 0);
  return s;
}

interface Sent { to: string; msgs: GossipMessage[] }
function sends(effects: SwimEffect[]): Sent[] {
  return effects.flatMap((e) => (e.type === 'send' ? [{ to: e.to, msgs: decodePacket(e.packet, 1336) }] : []));
}
function withType<T extends GossipMessage['type']>(effects: SwimEffect[], type: T): { to: string; msg: Extract<GossipMessage, { type: T }> }[] {
  return sends(effects).flatMap((s) => s.msgs.filter((m): m is Extract<GossipMessage, { type: T }> => m.type === type).map((msg) => ({ to: s.to, msg })));
}
function memberEvents(effects: SwimEffect[]): string[] {
  return effects.flatMap((e) => (e.type === 'member' ? [`${e.event.kind}:${e.event.member.name}`] : []));
}

describe(`probe cycle (seed ${SEED})`, () => {
  it('ping, then ping-req to the other members at the timeout, then suspicion at the end of the period', () => {
    const s = node(['a', 'b', 'c']);
    const [ping] = withType(s.tick(1000), 'ping');
    expect(ping, 'one ping per period').toBeDefined();
    const target = ping!.msg.target;
    expect(ping!.to).toBe(`${target}:7946`);

    expect(withType(s.tick(1499), 'ping-req')).toEqual([]);
    const reqs = withType(s.tick(1500), 'ping-req');
    expect(reqs.map((r) => r.to).sort()).toEqual(['a', 'b', 'c'].filter((n) => n !== target).map((n) => `${n}:7946`).sort());
    for (const r of reqs) expect(r.msg).toEqual({ type: 'ping-req', seq: ping!.msg.seq, target, targetAddress: `${target}:7946`, wantNack: true });

    // One relay reports the target silent; the other relay's nack never arrives.
    s.receive(reqs[0]!.to, encodeMessage({ type: 'nack', seq: ping!.msg.seq }), 1800);
    const end = s.tick(2000);
    expect(memberEvents(end)).toContain(`suspect:${target}`);
    expect(s.member(target)?.state).toBe('suspect');
    expect(s.localHealth(), 'one missing nack counts against us').toBe(1);
    expect(s.stats()).toMatchObject({ probes: 2, probeFailures: 1, indirectProbes: 2, nacks: 1, suspicions: 1 });
  });

  it('a direct ack records the round trip and improves our health score', () => {
    const s = node(['a', 'b']);
    expect(withType(s.tick(1000), 'ping')).toHaveLength(1);
    s.tick(1500);
    // The first probe fails (no ack, no nack) and the next one starts in the same tick.
    const [ping] = withType(s.tick(2000), 'ping');
    const health = s.localHealth();
    expect(health).toBeGreaterThan(0);
    s.receive(ping!.to, encodeMessage({ type: 'ack', seq: ping!.msg.seq }), 2012);
    expect(s.member(ping!.msg.target)?.rttMs).toBe(12);
    expect(s.localHealth()).toBe(health - 1);
    expect(s.stats().acks).toBe(1);
  });

  it('an ack through a relay counts as success but not as a round trip', () => {
    const s = node(['a', 'b']);
    const [ping] = withType(s.tick(1000), 'ping');
    const [req] = withType(s.tick(1500), 'ping-req');
    s.receive(req!.to, encodeMessage({ type: 'ack', seq: ping!.msg.seq }), 1600);
    expect(memberEvents(s.tick(2000))).toEqual([]);
    expect(s.member(ping!.msg.target)?.state).toBe('alive');
    expect(s.member(ping!.msg.target)?.rttMs).toBeUndefined();
    expect(s.stats().indirectAcks).toBe(1);
  });

  it('as a relay: pings the target, forwards its ack, and nacks when it stays silent', () => {
    const s = node(['a']);
    const out = s.receive('r:7946', encodeMessage({ type: 'ping-req', seq: 77, target: 'a', targetAddress: 'a:7946', wantNack: true }), 100);
    const [ping] = withType(out, 'ping');
    expect(ping!.to).toBe('a:7946');
    const fwd = withType(s.receive('a:7946', encodeMessage({ type: 'ack', seq: ping!.msg.seq }), 110), 'ack');
    expect(fwd).toEqual([{ to: 'r:7946', msg: { type: 'ack', seq: 77 } }]);

    // The relay nacks at half the probe timeout (500 ms), so the nack reaches the requester well
    // before its probe period ends even when both hosts are busy.
    const out2 = s.receive('r:7946', encodeMessage({ type: 'ping-req', seq: 78, target: 'a', targetAddress: 'a:7946', wantNack: true }), 200);
    const [ping2] = withType(out2, 'ping');
    expect(withType(s.tick(449), 'nack')).toEqual([]);
    expect(withType(s.tick(450), 'nack')).toEqual([{ to: 'r:7946', msg: { type: 'nack', seq: 78 } }]);
    // The relay still forwards an ack that comes after its nack, up to the full timeout.
    expect(withType(s.tick(599), 'nack')).toEqual([]);
    expect(withType(s.receive('a:7946', encodeMessage({ type: 'ack', seq: ping2!.msg.seq }), 650), 'ack')).toEqual([{ to: 'r:7946', msg: { type: 'ack', seq: 78 } }]);
  });

  it('answers a ping addressed to it (piggybacking news), and ignores a ping meant for another name', () => {
    const s = node(['a']);
    const reply = sends(s.receive('a:7946', encodeMessage({ type: 'ping', seq: 5, target: 'me' }), 10));
    expect(reply[0]!.to).toBe('a:7946');
    expect(reply[0]!.msgs[0]).toEqual({ type: 'ack', seq: 5 });
    expect(reply[0]!.msgs.some((m) => m.type === 'alive'), 'queued news rides along').toBe(true);
    expect(s.receive('a:7946', encodeMessage({ type: 'ping', seq: 6, target: 'someone-else' }), 11)).toEqual([]);
    expect(s.stats().misdirectedPings).toBe(1);
  });

  it('hearing of a suspicion makes the suspect our next probe, and the ping carries the suspicion (buddy rule)', () => {
    for (let seed = 1; seed <= 10; seed++) {
      const s = node(['a', 'b', 'c', 'd', 'e'], seed);
      s.receive('c:7946', encodeMessage({ type: 'suspect', incarnation: 1, name: 'd', from: 'c' }), 500);
      const probe = sends(s.tick(1000)).find((p) => p.msgs.some((m) => m.type === 'ping'));
      expect(probe?.to, `seed ${seed}`).toBe('d:7946');
      const types = probe!.msgs.map((m) => m.type);
      expect(types.indexOf('suspect'), `seed ${seed}: suspicion goes before the ping`).toBeLessThan(types.indexOf('ping'));
      expect(probe!.msgs[0], `seed ${seed}`).toEqual({ type: 'suspect', incarnation: 1, name: 'd', from: 'me' });
    }
  });

  it('our own failed probe of an already-suspect member confirms it and re-broadcasts our accusation', () => {
    const s = node(['a', 'b', 'c', 'd']);
    s.receive('c:7946', encodeMessage({ type: 'suspect', incarnation: 1, name: 'd', from: 'c' }), 500);
    s.tick(1000); // probes d
    s.tick(1500);
    const atEnd = s.tick(2000); // no ack: we confirm
    expect(s.stats().confirmations).toBe(1);
    // Our accusation rides on the next packets (the new probe in this tick, then gossip).
    const rumours = [...withType(atEnd, 'suspect'), ...withType(s.tick(s.nextDeadline()), 'suspect')].map((r) => r.msg.from);
    expect(rumours).toContain('me');
  });

  it('probes a suspect again just before declaring it dead, and an ack carrying its refutation saves it', () => {
    for (const refutes of [false, true]) {
      const s = node(['a', 'b', 'c', 'd', 'e']);
      s.receive('c:7946', encodeMessage({ type: 'suspect', incarnation: 1, name: 'd', from: 'c' }), 500);
      // n = 6, k = 2; our own failed first probe is one confirmation: deadline 500 + 11 381 ms.
      const deadline = 500 + 11_381;
      const pingsToD: number[] = [];
      let now = 0;
      while (now < 30_000 && s.member('d')?.state === 'suspect') {
        now = s.nextDeadline();
        const out = s.tick(now);
        // Relays report d silent, so our health stays perfect and periods keep their length.
        for (const r of withType(out, 'ping-req')) s.receive(r.to, encodeMessage({ type: 'nack', seq: r.msg.seq }), now + 1);
        for (const p of withType(out, 'ping')) {
          if (p.to !== 'd:7946') {
            s.receive(p.to, encodeMessage({ type: 'ack', seq: p.msg.seq }), now + 1); // everyone else is fine
            continue;
          }
          pingsToD.push(now);
          if (refutes && now >= deadline - 2_000) {
            // d was alive all along; the ack to this buddy-rule ping carries its refutation.
            const ack = encodeMessage({ type: 'ack', seq: p.msg.seq });
            const alive = encodeMessage({ type: 'alive', incarnation: 2, name: 'd', address: 'd:7946', meta: new Uint8Array() });
            s.receive('d:7946', encodeCompound([ack, alive]), now + 2);
          }
        }
      }
      expect(pingsToD[0], `refutes=${refutes}: first probe at the next period; pings at ${pingsToD.join(',')}`).toBeLessThanOrEqual(1500);
      const lastChance = pingsToD.filter((t) => t >= deadline - 2_000 && t < deadline);
      if (refutes) {
        expect(s.member('d')?.state).toBe('alive');
        expect(lastChance).toHaveLength(1);
      } else {
        expect(s.member('d')?.state).toBe('dead');
        expect(lastChance, `pings at ${pingsToD.join(',')}`).toHaveLength(2);
      }
    }
  });

  it('the member whose own timer declares a suspect dead tells every live member and the accused at once', () => {
    const s = node(['a', 'b', 'c', 'd', 'e']);
    // n = 6, k = 2: the accusation and two independent confirmations bring the timer to its
    // minimum, suspicionTimeout(4, 6, 1 s) = 4 s (log10 6 < 1) after we first heard of it.
    s.receive('c:7946', encodeMessage({ type: 'suspect', incarnation: 1, name: 'd', from: 'c' }), 500);
    s.receive('a:7946', encodeMessage({ type: 'suspect', incarnation: 1, name: 'd', from: 'a' }), 600);
    s.receive('b:7946', encodeMessage({ type: 'suspect', incarnation: 1, name: 'd', from: 'b' }), 700);
    let now = 0;
    let verdict: SwimEffect[] = [];
    while (s.member('d')?.state === 'suspect') {
      now = s.nextDeadline();
      const out = s.tick(now);
      for (const r of withType(out, 'ping-req')) s.receive(r.to, encodeMessage({ type: 'nack', seq: r.msg.seq }), now + 1);
      for (const p of withType(out, 'ping')) if (p.to !== 'd:7946') s.receive(p.to, encodeMessage({ type: 'ack', seq: p.msg.seq }), now + 1);
      verdict = out;
    }
    expect(now).toBe(500 + 4_000);
    expect(memberEvents(verdict)).toContain('dead:d');
    // One bare dead message to each of a, b, c, e and to d itself (which refutes if it is alive).
    const bare = sends(verdict).filter((p) => p.msgs.length === 1 && p.msgs[0]!.type === 'dead');
    expect(bare.map((p) => p.to).sort()).toEqual(['a', 'b', 'c', 'd', 'e'].map((n) => `${n}:7946`));
    for (const p of bare) expect(p.msgs[0]).toEqual({ type: 'dead', incarnation: 1, name: 'd', from: 'me' });
    // A verdict heard from someone else is passed on by gossip only, not to everyone at once.
    const heard = s.receive('a:7946', encodeMessage({ type: 'dead', incarnation: 1, name: 'e', from: 'a' }), now + 10);
    expect(withType(heard, 'dead')).toEqual([]);
    expect(withType(s.tick(now + 10), 'dead').length).toBeLessThanOrEqual(3);
  });

  it('many verdicts at once (after a partition) go out packed into as few packets as fit', () => {
    const peers = Array.from({ length: 40 }, (_, i) => `peer-${i}-`.padEnd(60, 'x')); // 30 verdicts: about 2 KB
    const s = node(peers);
    const accused = peers.slice(0, 30);
    for (const name of accused) s.receive(`${peers[39]}:7946`, encodeMessage({ type: 'suspect', incarnation: 1, name, from: peers[39]! }), 100);
    const out = s.tick(200_000); // every timer ran out; all 30 verdicts are reached in this tick
    expect(memberEvents(out).filter((e) => e.startsWith('dead:'))).toHaveLength(30);
    const verdicts = out.filter((e): e is Extract<SwimEffect, { type: 'send' }> => e.type === 'send').filter((e) => decodePacket(e.packet, 1336).every((m) => m.type === 'dead'));
    for (const p of verdicts) expect(p.packet.length).toBeLessThanOrEqual(1336);
    const byTarget = new Map<string, string[]>();
    for (const p of verdicts) byTarget.set(p.to, [...(byTarget.get(p.to) ?? []), ...decodePacket(p.packet, 1336).map((m) => (m as { name: string }).name)]);
    // The 10 live members and the 30 accused each get all 30 verdicts (gossip in the same tick may
    // repeat some), packed several to a packet.
    expect(byTarget.size).toBe(40);
    for (const [to, names] of byTarget) expect([...new Set(names)].sort(), to).toEqual([...accused].sort());
    expect(Math.max(...verdicts.map((p) => decodePacket(p.packet, 1336).length))).toBeGreaterThan(10);
  });

  it('a struggling node stretches its own probe interval (Lifeguard awareness)', () => {
    const s = node(['a', 'b', 'c']); // nobody ever answers or nacks
    const pingTimes: number[] = [];
    let now = 0;
    while (now < 20_000) {
      now = s.nextDeadline();
      if (withType(s.tick(now), 'ping').length > 0) pingTimes.push(now);
    }
    const gaps = pingTimes.slice(1).map((t, i) => t - pingTimes[i]!);
    expect(gaps[0]).toBe(1000);
    expect(Math.max(...gaps)).toBeGreaterThanOrEqual(3000);
    expect(s.localHealth()).toBeGreaterThan(0);
  });
});

describe('dissemination timers', () => {
  it('gossips to recently dead members, and stops after gossipToTheDeadMs', () => {
    const s = node(['a', 'b']);
    s.receive('b:7946', encodeMessage({ type: 'dead', incarnation: 1, name: 'a', from: 'b' }), 100);
    const early = sends(s.tick(200)).map((p) => p.to);
    expect(early).toContain('a:7946');
    // Much later, with fresh news to spread, the dead member is no longer a gossip target.
    s.receive('b:7946', encodeMessage({ type: 'alive', incarnation: 1, name: 'c', address: 'c:7946', meta: new Uint8Array() }), 40_000);
    let targets: string[] = [];
    for (let t = 40_000; t < 41_000; t = Math.max(t + 1, s.nextDeadline())) targets = targets.concat(sends(s.tick(t)).map((p) => p.to));
    expect(targets.length).toBeGreaterThan(0);
    expect(targets).not.toContain('a:7946');
  });

  it('runs push-pull with one random live member every pushPullInterval', () => {
    const s = node(['a', 'b']);
    const pushPulls: SwimEffect[] = [];
    for (let t = 0; t <= 120_000; t = s.nextDeadline()) {
      const out = s.tick(t);
      pushPulls.push(...out.filter((e) => e.type === 'push-pull'));
      // Peers answer every ping so they stay alive.
      for (const p of withType(out, 'ping')) s.receive(p.to, encodeMessage({ type: 'ack', seq: p.msg.seq }), t + 1);
    }
    expect(pushPulls.length).toBeGreaterThanOrEqual(2);
    for (const p of pushPulls) expect(p).toMatchObject({ type: 'push-pull', join: false, to: expect.stringMatching(/^[ab]:7946$/) });
  });

  it('join asks each distinct seed for a push-pull, skipping our own address', () => {
    const s = node([]);
    expect(s.join(['x:1', 'me:7946', 'y:1', 'x:1'], 0)).toEqual([
      { type: 'push-pull', to: 'x:1', join: true },
      { type: 'push-pull', to: 'y:1', join: true },
    ]);
  });

  it('keeps every packet within maxPacketBytes even with a large backlog of big facts', () => {
    const s = node([]);
    for (let i = 0; i < 60; i++) {
      s.receive(`p${i}:7946`, encodeMessage({ type: 'alive', incarnation: 1, name: `peer-${i}`, address: `p${i}:7946`, meta: new Uint8Array(500) }), 0);
    }
    let count = 0;
    for (let t = 0; t < 5_000; t = s.nextDeadline()) {
      for (const e of s.tick(t)) {
        if (e.type !== 'send') continue;
        count++;
        expect(e.packet.length).toBeLessThanOrEqual(1336);
      }
    }
    expect(count).toBeGreaterThan(10);
  });
});
