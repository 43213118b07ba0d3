// A name is one node, on the seed's side: a push-pull request whose sender (its first record)
// claims the name of a member held alive at another address, with another identity in its
// metadata, is refused and merges nothing; a restart of the same node at a new address, a
// namesake that is not alive, and a core without an identity function merge as before.
import { describe, expect, it } from 'vitest';
import { profile } from '../../gossip/config.js';
import { decodePushPull, encodePushPull, type PushPullMember } from '../../gossip/push-pull.js';
import { Swim } from '../../gossip/swim.js';
import { seeded } from '../lib/seeded.js';

const id = (s: string) => new TextEncoder().encode(s);
const identity = (meta: Uint8Array) => (meta.length ? new TextDecoder().decode(meta) : undefined);

function seed(withIdentity = true): Swim {
  const s = new Swim({ name: 'seed', address: '10.0.0.1:9999', meta: id('id-seed'), config: profile('lan'), random: seeded(3), now: 0, identity: withIdentity ? identity : undefined });
  // The real n1 joins first.
  const r = s.mergeRequest(encodePushPull({ join: true, members: [member('n1', '10.0.0.2:9999', 'id-real')] }), 1);
  expect('effects' in r).toBe(true);
  return s;
}
function member(name: string, address: string, nodeId: string, state: PushPullMember['state'] = 'alive'): PushPullMember {
  return { name, address, meta: id(nodeId), incarnation: 1, state };
}
const join = (...members: PushPullMember[]) => encodePushPull({ join: true, members });

describe('seed-side name check (mergeRequest)', () => {
  it('refuses a second node under a live member name and merges nothing of what it sent', () => {
    const s = seed();
    const r = s.mergeRequest(join(member('n1', '10.0.0.3:9999', 'id-impostor'), member('x', '10.0.0.4:9999', 'id-x')), 2);
    expect(r).toEqual({ clash: { name: 'n1', claimedAt: '10.0.0.3:9999', liveAt: '10.0.0.2:9999', senderIdentity: 'id-impostor', liveIdentity: 'id-real' } });
    expect(s.member('x')).toBeUndefined();
    expect(s.member('n1')).toMatchObject({ address: '10.0.0.2:9999', state: 'alive' });
    expect(s.stats().nameClashes).toBe(1);
  });

  it('refuses a node claiming the seed own name', () => {
    const r = seed().mergeRequest(join(member('seed', '10.0.0.3:9999', 'id-other')), 2);
    expect('clash' in r && r.clash.liveAt).toBe('10.0.0.1:9999');
  });

  it('merges the same node at a new address, a namesake of a member not alive, and any request without an identity function', () => {
    const s = seed();
    expect('effects' in s.mergeRequest(join(member('n1', '10.0.0.5:9999', 'id-real')), 2)).toBe(true);
    expect('effects' in seed(false).mergeRequest(join(member('n1', '10.0.0.3:9999', 'id-impostor')), 2)).toBe(true);
    const t = seed();
    t.mergeState(encodePushPull({ join: false, members: [member('n1', '10.0.0.2:9999', 'id-real', 'dead')] }), 2);
    expect(t.member('n1')?.state).toBe('suspect');
    expect('effects' in t.mergeRequest(join(member('n1', '10.0.0.3:9999', 'id-new')), 3)).toBe(true);
  });

  it('a member sends its own record first, whatever the table order', () => {
    const s = seed();
    expect(decodePushPull(s.encodeState(false)).members.map((m) => m.name)).toEqual(['seed', 'n1']);
  });
});
