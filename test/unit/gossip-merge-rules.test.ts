// One test per SWIM merge rule, driven through the public API: craft the claim as a packet (or a
// push-pull payload), feed it to a Swim, look at the table and the effects.
import { describe, expect, it } from 'vitest';
import { profile } from '../../gossip/config.js';
import { decodePacket, encodeCompound, encodeMessage, type GossipMessage } from '../../gossip/messages.js';
import { encodePushPull } from '../../gossip/push-pull.js';
import { Swim, type SwimEffect } from '../../gossip/swim.js';
import { DecodeError } from '../../src/errors.js';
import { seeded } from '../lib/seeded.js';

const SEED = 7;
const meta = new Uint8Array([1, 2, 3]);
function node(incarnation = 0): Swim {
  return new Swim({ name: 'me', address: '10.0.0.1:7946', meta, incarnation, config: profile('lan'), random: seeded(SEED), now: 0 });
}
function feed(s: Swim, msg: GossipMessage, now = 1): SwimEffect[] {
  return s.receive('10.0.0.9:7946', encodeMessage(msg), now);
}
function alive(name: string, incarnation: number, address = `${name}:7946`): GossipMessage {
  return { type: 'alive', incarnation, name, address, meta: new Uint8Array([incarnation]) };
}
function kinds(effects: SwimEffect[]): string[] {
  return effects.flatMap((e) => (e.type === 'member' ? [`${e.event.kind}:${e.event.member.name}`] : []));
}
describe('merge rules (seed 7)', () => {
  it('an alive claim about an unknown member adds it and reports join', () => {
    const s = node();
    expect(kinds(feed(s, alive('a', 1)))).toEqual(['join:a']);
    expect(s.member('a')).toMatchObject({ state: 'alive', incarnation: 1, address: 'a:7946' });
  });

  it('an alive claim with a higher incarnation updates meta and reports update', () => {
    const s = node();
    feed(s, alive('a', 1));
    expect(kinds(feed(s, alive('a', 2)))).toEqual(['update:a']);
    expect(s.member('a')?.meta).toEqual(new Uint8Array([2]));
  });

  it('a suspect claim about an alive member marks it suspect', () => {
    const s = node();
    feed(s, alive('a', 1));
    expect(kinds(feed(s, { type: 'suspect', incarnation: 1, name: 'a', from: 'b' }))).toEqual(['suspect:a']);
    expect(s.member('a')?.state).toBe('suspect');
  });

  it('a suspect claim with an older incarnation is ignored', () => {
    const s = node();
    feed(s, alive('a', 5));
    expect(feed(s, { type: 'suspect', incarnation: 4, name: 'a', from: 'b' })).toEqual([]);
    expect(s.member('a')?.state).toBe('alive');
  });

  it('a refutation (alive, higher incarnation) clears a suspicion', () => {
    const s = node();
    feed(s, alive('a', 1));
    feed(s, { type: 'suspect', incarnation: 1, name: 'a', from: 'b' });
    expect(kinds(feed(s, alive('a', 2)))).toEqual(['alive:a']);
    expect(s.member('a')?.state).toBe('alive');
    expect(s.stats().activeSuspicions).toBe(0);
  });

  it('an alive claim at the same incarnation never revives a dead member', () => {
    const s = node();
    feed(s, alive('a', 3));
    feed(s, { type: 'dead', incarnation: 3, name: 'a', from: 'b' });
    expect(feed(s, alive('a', 3))).toEqual([]);
    expect(s.member('a')?.state).toBe('dead');
    expect(kinds(feed(s, alive('a', 4)))).toEqual(['join:a']);
    expect(s.member('a')?.state).toBe('alive');
  });

  it('an alive claim at the same incarnation does not clear a suspicion either', () => {
    const s = node();
    feed(s, alive('a', 3));
    feed(s, { type: 'suspect', incarnation: 3, name: 'a', from: 'b' });
    feed(s, alive('a', 3));
    expect(s.member('a')?.state).toBe('suspect');
  });

  it('the same name at another address does not overwrite a live member', () => {
    const s = node();
    feed(s, alive('a', 1, '10.0.0.2:7946'));
    expect(feed(s, alive('a', 9, '10.6.6.6:7946'))).toEqual([]);
    expect(s.member('a')).toMatchObject({ address: '10.0.0.2:7946', incarnation: 1, state: 'alive' });
    expect(s.stats().addressConflicts).toBe(1);
  });

  it('a dead member may come back at a new address with a higher incarnation', () => {
    const s = node();
    feed(s, alive('a', 1, '10.0.0.2:7946'));
    feed(s, { type: 'dead', incarnation: 1, name: 'a', from: 'b' });
    expect(kinds(feed(s, alive('a', 2, '10.0.0.3:7946')))).toEqual(['join:a']);
    expect(s.member('a')?.address).toBe('10.0.0.3:7946');
  });

  it('a suspect claim about ourselves is refuted with a higher incarnation', () => {
    const s = node(4);
    feed(s, { type: 'suspect', incarnation: 4, name: 'me', from: 'b' });
    expect(s.incarnation()).toBe(5);
    expect(s.member('me')?.state).toBe('alive');
    expect(s.stats().refutations).toBe(1);
    expect(s.localHealth()).toBe(1);
    feed(s, alive('b', 1));
    // The refutation rides on the next packet we send (probe ping or gossip).
    const out = s.tick(10_000).flatMap((e) => (e.type === 'send' ? decodePacket(e.packet, 1336) : []));
    expect(out).toContainEqual({ type: 'alive', incarnation: 5, name: 'me', address: '10.0.0.1:7946', meta });
  });

  it('a dead claim about ourselves is refuted, not accepted', () => {
    const s = node(2);
    feed(s, { type: 'dead', incarnation: 7, name: 'me', from: 'b' });
    expect(s.incarnation()).toBe(8);
    expect(s.member('me')?.state).toBe('alive');
  });

  it('a stale accusation of ourselves needs no new incarnation, but our current alive goes back on the wire', () => {
    const s = node(5);
    // A buddy-rule ping from someone who missed our refutation: suspicion first, then the ping.
    const ping = encodeCompound([
      encodeMessage({ type: 'suspect', incarnation: 3, name: 'me', from: 'b' }),
      encodeMessage({ type: 'ping', seq: 9, target: 'me' }),
    ]);
    const [reply] = s.receive('b:7946', ping, 1).filter((e) => e.type === 'send');
    expect(s.incarnation()).toBe(5);
    expect(s.stats()).toMatchObject({ refutations: 0, reannounced: 1 });
    expect(decodePacket(reply!.type === 'send' ? reply!.packet : new Uint8Array(), 1336)).toEqual([
      { type: 'ack', seq: 9 },
      { type: 'alive', incarnation: 5, name: 'me', address: '10.0.0.1:7946', meta },
    ]);
  });

  it('a leave (dead from the member itself) shows as left, and a later dead claim does not change it', () => {
    const s = node();
    feed(s, alive('a', 2));
    expect(kinds(feed(s, { type: 'dead', incarnation: 2, name: 'a', from: 'a' }))).toEqual(['left:a']);
    expect(feed(s, { type: 'dead', incarnation: 2, name: 'a', from: 'b' })).toEqual([]);
    expect(s.member('a')?.state).toBe('left');
  });

  it('a leave that arrives after we declared the member dead turns it into left', () => {
    const s = node();
    feed(s, alive('a', 2));
    feed(s, { type: 'dead', incarnation: 2, name: 'a', from: 'b' });
    expect(kinds(feed(s, { type: 'dead', incarnation: 2, name: 'a', from: 'a' }))).toEqual(['left:a']);
  });

  it('a suspect claim about a dead member does not resurrect it as suspect', () => {
    const s = node();
    feed(s, alive('a', 2));
    feed(s, { type: 'dead', incarnation: 2, name: 'a', from: 'b' });
    expect(feed(s, { type: 'suspect', incarnation: 2, name: 'a', from: 'c' })).toEqual([]);
    expect(s.member('a')?.state).toBe('dead');
  });

  it('claims about unknown members other than alive are ignored', () => {
    const s = node();
    expect(feed(s, { type: 'suspect', incarnation: 1, name: 'ghost', from: 'b' })).toEqual([]);
    expect(feed(s, { type: 'dead', incarnation: 1, name: 'ghost', from: 'b' })).toEqual([]);
    expect(s.member('ghost')).toBeUndefined();
  });

  it('a restarted node (lower incarnation) refutes the stale dead claim about itself from push-pull', () => {
    const s = node(0);
    const remote = encodePushPull({
      join: false,
      members: [
        { name: 'peer', address: 'peer:7946', meta, incarnation: 1, state: 'alive' },
        { name: 'me', address: '10.0.0.1:7946', meta, incarnation: 7, state: 'dead' },
      ],
    });
    s.mergeState(remote, 5);
    expect(s.incarnation()).toBe(8);
    expect(s.member('me')?.state).toBe('alive');
    expect(s.member('peer')?.state).toBe('alive');
  });

  it('a restarted node also refutes a stale alive claim with a higher incarnation', () => {
    const s = node(0);
    feed(s, { type: 'alive', incarnation: 4, name: 'me', address: '10.0.0.1:7946', meta });
    expect(s.incarnation()).toBe(5);
  });

  it('push-pull turns a remote dead verdict into a local suspicion, not an instant death', () => {
    const s = node();
    feed(s, alive('a', 1));
    const remote = encodePushPull({ join: false, members: [{ name: 'a', address: 'a:7946', meta, incarnation: 1, state: 'dead' }] });
    expect(kinds(s.mergeState(remote, 2))).toEqual(['suspect:a']);
  });

  it('a bad push-pull payload throws DecodeError and changes nothing', () => {
    const s = node();
    feed(s, alive('a', 1));
    const before = JSON.stringify(s.members(), (_k, v: unknown) => (v instanceof Uint8Array ? [...v] : v));
    const good = encodePushPull({ join: true, members: [{ name: 'b', address: 'b:1', meta, incarnation: 1, state: 'alive' }] });
    expect(() => s.mergeState(good.subarray(0, good.length - 1), 3)).toThrow(DecodeError);
    expect(() => s.mergeState(new Uint8Array([9, 9, 9]), 3)).toThrow(DecodeError);
    expect(JSON.stringify(s.members(), (_k, v: unknown) => (v instanceof Uint8Array ? [...v] : v))).toBe(before);
  });

  it('setMeta bumps our incarnation and reports an update; oversized meta is refused', () => {
    const s = node(3);
    expect(kinds(s.setMeta(new Uint8Array([9]), 1))).toEqual(['update:me']);
    expect(s.incarnation()).toBe(4);
    expect(() => s.setMeta(new Uint8Array(513), 2)).toThrow(/513 bytes/);
  });

  it('after leaving we no longer refute accusations', () => {
    const s = node(1);
    feed(s, alive('a', 1));
    const out = s.leave(2);
    expect(kinds(out)).toEqual(['left:me']);
    expect(out.filter((e) => e.type === 'send').map((e) => (e.type === 'send' ? e.to : ''))).toEqual(['a:7946']);
    feed(s, { type: 'dead', incarnation: 1, name: 'me', from: 'a' });
    expect(s.incarnation()).toBe(1);
    expect(s.member('me')?.state).toBe('left');
  });
});

describe('member table version and read-only access', () => {
  it('tableVersion moves with every change a member view shows (not with RTT) and peek reads without copying', () => {
    const s = node();
    let v = s.tableVersion();
    const moved = (): boolean => {
      const now = s.tableVersion();
      const changed = now !== v;
      v = now;
      return changed;
    };
    feed(s, alive('a', 1));
    expect(moved()).toBe(true); // join
    feed(s, alive('a', 1));
    expect(moved()).toBe(false); // stale: nothing changed
    feed(s, alive('a', 2));
    expect(moved()).toBe(true); // incarnation (and meta)
    feed(s, { type: 'suspect', incarnation: 2, name: 'a', from: 'x' });
    expect(moved()).toBe(true);
    feed(s, { type: 'dead', incarnation: 3, name: 'a', from: 'x' });
    expect(moved()).toBe(true);
    feed(s, { type: 'suspect', incarnation: 5, name: 'me', from: 'x' }); // we refute: our incarnation grows
    expect(moved()).toBe(true);
    s.setMeta(new Uint8Array([9]), 2);
    expect(moved()).toBe(true);
    const peeked = s.peek('a');
    expect(peeked).toEqual(s.member('a'));
    expect(s.peek('a')).toBe(peeked); // the record itself
    expect(s.peek('nobody')).toBeUndefined();
  });
});
