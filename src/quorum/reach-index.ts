// The voters a node counts as reachable, kept as member rows change: a member event moves one row
// in or out of the set (O(1)); the whole table is recounted only when what decides membership of
// the set (the gate's configuration, its `basis`) changes. Recounting every row on each verdict
// after any member event was O(N) per event at 1,000 simulated nodes.
import type { LifecycleState } from '../vocabulary.js';

/** What the index reads of a member row (the gate's QuorumMember). */
interface Row {
  name: string;
  state: LifecycleState;
}

export class ReachIndex<R extends Row> {
  private readonly reach = new Set<string>();
  /** The gate version the set was counted for; -1 until first read. */
  private basis = -1;
  private own: LifecycleState | undefined;
  /** Grows whenever the set or our own row's state changes (verdicts memoise on it). */
  version = 0;

  constructor(
    private readonly self: string,
    /** Whether a row counts as a reachable voter under the gate's configuration now. */
    private readonly counts: (row: R) => boolean,
  ) {}

  /** Our own row's lifecycle state as last reported (undefined while we are not in the table). */
  get ownState(): LifecycleState | undefined {
    return this.own;
  }

  /** One row changed (or entered the table), or left it (`gone`); `basis` is the gate's version now. */
  note(row: R, gone: boolean, basis: number): void {
    if (row.name === this.self) {
      const s = gone ? undefined : row.state;
      if (s !== this.own) {
        this.own = s;
        this.version++;
      }
    }
    if (basis !== this.basis) return; // recounted in full at the next read
    const counted = !gone && this.counts(row);
    if (counted === this.reach.has(row.name)) return;
    if (counted) this.reach.add(row.name);
    else this.reach.delete(row.name);
    this.version++;
  }

  /** The reachable voters under gate version `basis` (recounted from `rows` if it moved); not to be kept. */
  read(basis: number, rows: () => readonly R[]): ReadonlySet<string> {
    if (basis === this.basis) return this.reach;
    this.reach.clear();
    this.own = undefined;
    for (const row of rows()) {
      if (row.name === this.self) this.own = row.state;
      if (this.counts(row)) this.reach.add(row.name);
    }
    this.basis = basis;
    this.version++;
    return this.reach;
  }
}
