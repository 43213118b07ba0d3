// The placement-agreement invariant (issue 21): running nodes that hold the same committed voter
// configuration (the same epoch) compute the same replica set for every key. Placement is a pure
// function of the configuration (src/placement/), so this fails only if two nodes hold different
// contents under one epoch (voters, or the replication factor lost or changed on the way) or the
// function depends on something else. Checked with the split-brain check, on the workload's agents
// and a fixed sample of keys; a configuration's answer is cached by object, so a check costs a map
// lookup per node until configurations change.
import { placementOf } from '../placement/index.js';
import type { VoterConfig } from '../quorum/voter-config.js';
import { Violation } from './invariants.js';

/** Keys placed: the fuzz workload's agents and some others. */
const SAMPLE_KEYS = [...Array.from({ length: 8 }, (_, a) => `agent-${a}`), ...Array.from({ length: 24 }, (_, k) => `key-${k}`)];

export class PlacementAgreementChecker {
  private readonly signatures = new WeakMap<VoterConfig, string[]>();

  constructor(
    /** Node i's committed configuration. */
    private readonly configOf: (i: number) => VoterConfig,
    private readonly now: () => number,
  ) {}

  /** Throws a Violation when two of `running` hold one epoch but place a key differently. */
  check(running: number[]): void {
    const first = new Map<number, { i: number; sets: string[]; config: VoterConfig }>();
    for (const i of running) {
      const config = this.configOf(i);
      if (config.epoch === 0) continue;
      const sets = this.placed(config);
      const ref = first.get(config.epoch);
      if (!ref) {
        first.set(config.epoch, { i, sets, config });
        continue;
      }
      if (ref.sets === sets) continue;
      for (let k = 0; k < SAMPLE_KEYS.length; k++) {
        if (ref.sets[k] === sets[k]) continue;
        const describe = (c: VoterConfig) => `voters {${c.voters.map((v) => v.name).join(',')}}, replication factor ${c.replicationFactor}`;
        throw new Violation(
          'placement-agreement',
          `n${ref.i} and n${i} both hold configuration ${config.epoch} but place ${SAMPLE_KEYS[k]} on {${ref.sets[k]}} and {${sets[k]}}` +
            `\n    n${ref.i} holds ${describe(ref.config)}\n    n${i} holds ${describe(config)}`,
          this.now(),
        );
      }
    }
  }

  private placed(config: VoterConfig): string[] {
    let sets = this.signatures.get(config);
    if (!sets) {
      const p = placementOf(config);
      sets = SAMPLE_KEYS.map((k) => p.replicas(k).join(','));
      // Equal contents share one array, so equal configurations compare by reference.
      this.signatures.set(config, sets);
    }
    return sets;
  }
}
