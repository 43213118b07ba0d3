// Rendezvous (highest random weight) placement: every key ranks every voter by a pseudo-random
// score and its replica set is the top `rf` of them. Pure: the same voters, factor and key give
// the same set on every node, whatever order the voters are listed in, with no state and no I/O.
// Why HRW rather than a ring of virtual nodes or jump hash (docs/architecture.md, "Placement"):
// movement is exact (a joiner takes over one slot of exactly the keys it now ranks in the top rf
// for; a leaver's keys each take the next voter), its balance is the balls-into-bins floor with no
// ring-range error on top, and any voter can leave, not only the last one numbered.
//
// Score of voter v for key k: two 32-bit lanes, fmix32(k1 ^ v1) and fmix32(k2 ^ v2), where k1, k2
// and v1, v2 are the lanes of the names (hash.ts). Hashing each name once and mixing per pair
// (as dgryski/go-rendezvous does with 64 bits) makes a pair cost a few integer operations rather
// than a string hash. Equal weights compare the lanes as integers (no floating point, so exactly
// the same everywhere); ties of all 64 bits fall to the lower name.
//
// Weights (weighted rendezvous, Schindelhauer & Schomaker's logarithmic method): with u in (0, 1)
// taken from the 53 high bits of the score, the weighted score is -w / ln(u). A voter then holds a
// share of the keys proportional to w, and changing one voter's weight moves keys only to or from
// it. This path uses Math.log, which V8 computes with the same fdlibm port on every platform.
import { ConfigError } from '../errors.js';
import { fmix32, nameLanes } from './hash.js';
import { checkReplicationFactor } from './replication-factor.js';

export interface PlacementVoter {
  readonly name: string;
  /** Relative capacity, > 0 (default 1); see weightFromSlots. */
  readonly weight?: number;
}

/** The largest weight a voter may carry. */
export const MAX_WEIGHT = 1_000_000;

/** The weight of a node with `slots` agent slots: the slots, and at least 1 (a 0-slot coordinator still stores). */
export function weightFromSlots(slots: number): number {
  return Math.min(MAX_WEIGHT, Math.max(1, Math.floor(slots)));
}

const TWO_POW_21 = 2 ** 21;
const TWO_POW_53 = 2 ** 53;

/**
 * The placement of one configuration: built once (it hashes each voter name once), then asked for
 * the replica set of any number of keys at O(voters) each.
 */
export class Placement {
  /** The voters, sorted by name (a tie between scores goes to the lower name: the lower index). */
  readonly voters: readonly string[];
  readonly replicationFactor: number;
  private readonly lane1: Uint32Array;
  private readonly lane2: Uint32Array;
  /** Per voter, when the weights are not all equal. */
  private readonly weights: Float64Array | undefined;
  private s1 = new Float64Array(0);
  private s2 = new Float64Array(0);
  private sw = new Float64Array(0);

  constructor(voters: readonly PlacementVoter[], replicationFactor: number) {
    const bad = checkReplicationFactor(replicationFactor);
    if (bad) throw new ConfigError(bad);
    const sorted = [...voters].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (let i = 1; i < sorted.length; i++) if (sorted[i]!.name === sorted[i - 1]!.name) throw new ConfigError(`voter ${sorted[i]!.name} listed twice`);
    for (const v of sorted) {
      const w = v.weight ?? 1;
      if (!(w > 0 && w <= MAX_WEIGHT)) throw new ConfigError(`weight of voter ${v.name} must be above 0 and at most ${MAX_WEIGHT}, got ${w}`);
    }
    this.voters = sorted.map((v) => v.name);
    this.replicationFactor = replicationFactor;
    this.lane1 = new Uint32Array(sorted.length);
    this.lane2 = new Uint32Array(sorted.length);
    sorted.forEach((v, i) => {
      [this.lane1[i], this.lane2[i]] = nameLanes(v.name);
    });
    const w0 = sorted[0]?.weight ?? 1;
    this.weights = sorted.some((v) => (v.weight ?? 1) !== w0) ? Float64Array.from(sorted, (v) => v.weight ?? 1) : undefined;
  }

  /** How many voters hold each key: the factor, or every voter when there are no more than that. */
  get setSize(): number {
    return Math.min(this.replicationFactor, this.voters.length);
  }

  /** The replica set of `key`, highest score first (its first live member is the natural coordinator). */
  replicas(key: string): string[] {
    return this.rank(key, this.setSize).map((i) => this.voters[i]!);
  }

  /** Whether `voter` is in the replica set of `key`. */
  holds(voter: string, key: string): boolean {
    return this.replicas(key).includes(voter);
  }

  /** The indices (into voters) of the top `count` voters for `key`, best first. */
  private rank(key: string, count: number): number[] {
    const [k1, k2] = nameLanes(key);
    const n = this.voters.length;
    const top: number[] = [];
    // Scratch space for the scores of the top list (rank is synchronous: one use at a time).
    if (this.s1.length < count) [this.s1, this.s2, this.sw] = [new Float64Array(count), new Float64Array(count), new Float64Array(count)];
    const { s1, s2, sw } = this;
    const weights = this.weights;
    for (let i = 0; i < n; i++) {
      const a = fmix32(k1 ^ this.lane1[i]!);
      const b = fmix32(k2 ^ this.lane2[i]!);
      const w = weights ? weightedScore(weights[i]!, a, b) : 0;
      // Insert into the sorted top list if it beats its last entry (ties: the earlier, lower name stays ahead).
      let pos = top.length;
      while (pos > 0) {
        const j = pos - 1;
        const better = weights ? w > sw[j]! || (w === sw[j]! && (a > s1[j]! || (a === s1[j]! && b > s2[j]!))) : a > s1[j]! || (a === s1[j]! && b > s2[j]!);
        if (!better) break;
        pos--;
      }
      if (pos >= count) continue;
      const last = Math.min(top.length, count - 1);
      for (let j = last; j > pos; j--) {
        top[j] = top[j - 1]!;
        s1[j] = s1[j - 1]!;
        s2[j] = s2[j - 1]!;
        sw[j] = sw[j - 1]!;
      }
      top[pos] = i;
      s1[pos] = a;
      s2[pos] = b;
      sw[pos] = w;
    }
    return top;
  }
}

/** -w / ln(u), u in (0, 1) from the score's 53 high bits (two lanes: 32 + 21). */
function weightedScore(weight: number, a: number, b: number): number {
  const u = (a * TWO_POW_21 + (b >>> 11) + 0.5) / TWO_POW_53;
  return -weight / Math.log(u);
}

/** The replica set of `key` among `voters` (build a Placement to place many keys). */
export function replicaSet(voters: readonly PlacementVoter[], replicationFactor: number, key: string): string[] {
  return new Placement(voters, replicationFactor).replicas(key);
}
