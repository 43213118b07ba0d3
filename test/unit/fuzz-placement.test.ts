// The fuzzer's placement-agreement invariant (src/fuzz/placement-check.ts): nodes on one voter
// configuration place every key alike. The checker on hand-made configurations, then the whole
// fuzzer: clean with --replication-factor 5, and it must catch a planted bug that drops the factor
// from configurations decoded off the wire (what a node of an older version would do).
import { describe, expect, it } from 'vitest';
import { runFuzz } from '../../src/fuzz/index.js';
import { Violation } from '../../src/fuzz/invariants.js';
import { PlacementAgreementChecker } from '../../src/fuzz/placement-check.js';
import { genesisConfig, nextConfig, parseVoterConfig, type VoterConfig } from '../../src/quorum/voter-config.js';

const admit = (names: string[]) => names.map((name) => ({ name, role: 'hybrid' as const }));

describe('placement-agreement checker', () => {
  const five = nextConfig(genesisConfig('n0', 'hybrid', 3), 'n0', { admit: admit(['n1', 'n2', 'n3', 'n4']) });

  it('passes nodes on equal configurations (distinct objects) and nodes on different epochs', () => {
    const copy = parseVoterConfig(JSON.parse(JSON.stringify(five)), 'copy');
    const later = nextConfig(five, 'n1', { down: ['n4'] });
    const configs: VoterConfig[] = [five, copy, later, genesisConfig('n9', 'hybrid', 1)];
    expect(() => new PlacementAgreementChecker((i) => configs[i]!, () => 0).check([0, 1, 2, 3])).not.toThrow();
  });

  it('fails two nodes on one epoch with another factor, or other voters', () => {
    const otherFactor = { ...five, replicationFactor: 1 };
    const otherVoters = { ...five, voters: five.voters.filter((v) => v.name !== 'n2') };
    for (const bad of [otherFactor, otherVoters]) {
      const configs = [five, bad];
      let err: unknown;
      try {
        new PlacementAgreementChecker((i) => configs[i]!, () => 42).check([0, 1]);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(Violation);
      expect((err as Violation).invariant).toBe('placement-agreement');
      expect((err as Violation).message).toMatch(/n0 and n1 both hold configuration 2 but place/);
    }
  });
});

describe('tri fuzz with a replication factor', () => {
  it('holds every invariant with --replication-factor 5 on 5 nodes', async () => {
    const report = await runFuzz({ seed: 2121, runs: 3, nodes: 5, replicationFactor: 5 });
    const f = report.failures[0];
    expect(report.failures, f ? `${f.invariant}: ${f.message}\nreplay: ${f.replay}` : '').toEqual([]);
    expect(report.replicationFactor).toBe(5);
  }, 120_000);

  it('finds a planted bug that loses the factor on the wire, and prints a replay naming the factor', async () => {
    const report = await runFuzz({ seed: 2121, runs: 5, nodes: 5, replicationFactor: 5, plantedBug: 'drop-replication-factor', maxShrinkRuns: 10 });
    const f = report.failures[0];
    expect(f?.invariant).toBe('placement-agreement');
    expect(f?.message).toMatch(/replication factor 5[\s\S]*replication factor 3/);
    expect(f?.replay).toMatch(/^tri fuzz --seed 2121 --runs 5 --nodes 5 --replication-factor 5 --planted-bug drop-replication-factor --replay /);
  }, 120_000);
});
