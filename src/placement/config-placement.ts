// The placement of a voter configuration, built once per configuration object: every caller on a
// node (status, the placement RPC, the fuzzer's agreement check) shares it, and a configuration is
// immutable once committed, so the object is the cache key.
import { Placement } from './rendezvous.js';

/** The parts of a voter configuration placement reads (src/quorum/voter-config.ts VoterConfig). */
export interface PlacedConfig {
  readonly epoch: number;
  readonly voters: readonly { readonly name: string }[];
  readonly replicationFactor: number;
}

const cache = new WeakMap<PlacedConfig, Placement>();

/** The placement every node holding `config` computes (voters unweighted: configurations carry no weights yet). */
export function placementOf(config: PlacedConfig): Placement {
  let p = cache.get(config);
  if (!p) {
    p = new Placement(config.voters.map((v) => ({ name: v.name })), config.replicationFactor);
    cache.set(config, p);
  }
  return p;
}
