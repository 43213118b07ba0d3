// What changes hands between two placements (two configurations, or two factors): per key, the
// voters that gain a replica and the ones that lose one. Handoff will be driven from this; today
// it is also what `tri memory placement` reports and what the placement benchmark counts.
import type { Placement } from './rendezvous.js';

export interface PlacementMove {
  key: string;
  /** The replica set before and after, highest score first. */
  before: string[];
  after: string[];
  /** Voters in `after` and not in `before` (they must catch up), and the reverse (they may drop the key once it is safe). */
  gained: string[];
  lost: string[];
}

/** The move of `key` from `before` to `after`, or undefined when its replica set is the same set (order aside). */
export function moveOf(before: Placement, after: Placement, key: string): PlacementMove | undefined {
  const b = before.replicas(key);
  const a = after.replicas(key);
  const inB = new Set(b);
  const inA = new Set(a);
  const gained = a.filter((n) => !inB.has(n));
  const lost = b.filter((n) => !inA.has(n));
  if (gained.length === 0 && lost.length === 0) return undefined;
  return { key, before: b, after: a, gained, lost };
}

/** Every key of `keys` whose replica set differs between `before` and `after`. */
export function placementMoves(before: Placement, after: Placement, keys: Iterable<string>): PlacementMove[] {
  const out: PlacementMove[] = [];
  for (const key of keys) {
    const m = moveOf(before, after, key);
    if (m) out.push(m);
  }
  return out;
}

/** Totals of a set of moves: replicas gained per voter (the copies each must receive) and lost per voter. */
export function moveTotals(moves: readonly PlacementMove[]): { keys: number; replicasMoved: number; gainedBy: Map<string, number>; lostBy: Map<string, number> } {
  const gainedBy = new Map<string, number>();
  const lostBy = new Map<string, number>();
  let replicasMoved = 0;
  for (const m of moves) {
    for (const n of m.gained) gainedBy.set(n, (gainedBy.get(n) ?? 0) + 1);
    for (const n of m.lost) lostBy.set(n, (lostBy.get(n) ?? 0) + 1);
    replicasMoved += m.gained.length;
  }
  return { keys: moves.length, replicasMoved, gainedBy, lostBy };
}
