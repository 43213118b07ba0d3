// The replication factor in the voter configuration (issue 21): carried from each configuration to
// the next, set by the founder, changed only by a configuration change, validated on the wire,
// and wire compatible with nodes that do not send it (the default applies). Nodes holding one
// configuration compute one placement.
import { describe, expect, it } from 'vitest';
import { ConfigError, DecodeError } from '../../src/errors.js';
import { placementOf } from '../../src/placement/index.js';
import { QuorumGate, type QuorumMember } from '../../src/quorum/quorum-gate.js';
import { commitNotice, parseCommit } from '../../src/quorum/reconfig-messages.js';
import { genesisConfig, nextConfig, parseVoterConfig } from '../../src/quorum/voter-config.js';
import { fromJsonPayload, toJsonPayload } from '../../src/rpc/json.js';
import { silentLogger } from '../../src/node/logger.js';

const voters = ['n0', 'n1', 'n2', 'n3', 'n4'].map((name) => ({ name, role: 'hybrid' as const }));

describe('replication factor in the voter configuration', () => {
  it('the founder sets it; every next configuration carries it; a change is the next configuration', () => {
    const g = genesisConfig('n0', 'hybrid', 5);
    expect(g.replicationFactor).toBe(5);
    const c2 = nextConfig(g, 'n0', { admit: voters.slice(1) });
    expect(c2.replicationFactor).toBe(5);
    const c3 = nextConfig(c2, 'n1', { down: ['n4'] });
    expect(c3.replicationFactor).toBe(5);
    const c4 = nextConfig(c3, 'n1', { replicationFactor: 1 });
    expect(c4).toMatchObject({ epoch: 4, replicationFactor: 1, voters: c3.voters });
    expect(genesisConfig('n0', 'hybrid').replicationFactor).toBe(3);
  });

  it('a configuration from a node that does not send the field reads as the default (3)', () => {
    const old = { epoch: 4, id: '4/n0', voters, removed: [] };
    expect(parseVoterConfig(old, 'x').replicationFactor).toBe(3);
    // A commit notice as an older node writes it (no replicationFactor field).
    const { config } = parseCommit(toJsonPayload({ by: 'n0', epoch: 4, voters, removed: [], id: '4/n0' }), 'commit');
    expect(config.replicationFactor).toBe(3);
  });

  it('travels in commit notices, accept values and config answers, and survives the round trip', () => {
    const c = nextConfig(genesisConfig('n0', 'hybrid', 7), 'n0', { admit: voters.slice(1) });
    const notice = toJsonPayload(commitNotice('n0', c, ['n1']));
    expect(parseCommit(notice, 'commit').config).toEqual(c);
    // The header stays first (commitHeader reads only `{"by":...,"epoch":N,`).
    expect(new TextDecoder().decode(notice)).toMatch(/^\{"by":"n0","epoch":2,/);
    expect(parseVoterConfig(fromJsonPayload(toJsonPayload(c), 'config'), 'config')).toEqual(c);
  });

  it('refuses a configuration whose factor is even, zero, above the maximum or not a number (DecodeError)', () => {
    for (const replicationFactor of [0, 2, 4, 33, -1, 1.5, '3', null, true]) {
      expect(() => parseVoterConfig({ epoch: 2, id: '2/n0', voters, removed: [], replicationFactor }, 'x'), String(replicationFactor)).toThrow(DecodeError);
    }
  });

  it('the gate founds with the factor it was given, and keeps a persisted factor over a new flag', () => {
    let saved: string | undefined;
    const store = { load: () => saved, save: (j: string) => void (saved = j) };
    const members = (): QuorumMember[] => [{ name: 'n0', role: 'hybrid', state: 'ACTIVE', reachable: true, stateChangedAt: 0 }];
    const g = new QuorumGate('n0', members, 10_000, silentLogger(), store);
    expect(() => g.setFoundingReplicationFactor(4)).toThrow(ConfigError);
    expect(g.setFoundingReplicationFactor(5)).toBeUndefined();
    expect(g.found()).toBe(true);
    expect(g.voterConfig().replicationFactor).toBe(5);
    // Restarted with another flag: the cluster's factor holds, and the caller learns which one.
    const again = new QuorumGate('n0', members, 10_000, silentLogger(), store);
    expect(again.voterConfig().replicationFactor).toBe(5);
    expect(again.setFoundingReplicationFactor(3)).toBe(5);
    expect(again.found()).toBe(false);
    expect(again.voterConfig().replicationFactor).toBe(5);
    expect(again.setFoundingReplicationFactor(5)).toBeUndefined();
  });

  it('nodes holding equal configurations place alike; a different factor on the same epoch places differently', () => {
    const a = nextConfig(genesisConfig('n0', 'hybrid', 3), 'n0', { admit: voters.slice(1) });
    const b = parseVoterConfig(JSON.parse(JSON.stringify({ ...a, voters: [...a.voters].reverse() })), 'copy');
    const c = { ...a, replicationFactor: 1 };
    let differs = 0;
    for (let k = 0; k < 100; k++) {
      expect(placementOf(b).replicas(`agent-${k}`)).toEqual(placementOf(a).replicas(`agent-${k}`));
      if (placementOf(c).replicas(`agent-${k}`).length !== placementOf(a).replicas(`agent-${k}`).length) differs++;
    }
    expect(differs).toBe(100);
    expect(placementOf(a)).toBe(placementOf(a)); // one Placement per configuration object
  });
});
