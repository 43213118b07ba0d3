// Announced move completion: when every voter of configuration E is done moving onto it, the
// records of the configurations before E (replica-moves.ts) drop on every node, so writes stop
// needing the old sets' majorities cluster-wide instead of per node and per document.
//
// A voter is "done" on E when it holds no stray (handoff gave every document it is no longer a
// replica of to a majority of its new set) and every document it holds as a replica of E has
// completed its move here (a majority of the new set holds everything a majority of each previous
// set held: move-settle.ts). Once every voter of E is done, every write acknowledged on an earlier
// configuration is on a majority of its set on E: a displaced holder handed it over before
// dropping, a continuing majority holds it, and each holder that is a replica of E settled it.
//
// Protocol (member RPC `memory.move-done`, replica-rpc.ts): a node that keeps records, is on E and
// is done itself asks each voter of E it has no "yes" from, once per handoff round. When all said
// yes it releases its records before E and tells every voter so (`released`); a voter on E that
// hears it releases too (the teller checked every voter). A second change resets the tally (the
// new configuration's voters are asked afresh, and their "done" covers every older record). A
// crash loses only the tally: the records are persisted until released, and a restarted voter
// answers from its state again. Sans-IO: state and answers in, questions out.

export interface MoveCompletionOptions {
  self: string;
  /** The committed configuration: its epoch and voter names. */
  config: () => { epoch: number; voters: readonly string[] };
  /** Epochs of the kept previous configurations (oldest first). */
  records: () => readonly number[];
  /** Whether this node is done moving onto its configuration (no stray, every held replica's move complete here). */
  settledHere: () => boolean;
  /** Drops every kept record before `epoch`. */
  release: (epoch: number) => void;
}

export interface MoveDoneAnswer {
  done: boolean;
  /** The answering node released its records on this configuration (it saw every voter done). */
  released: boolean;
}

export class MoveCompletion {
  private epoch = -1;
  private readonly yes = new Set<string>();
  private releasedOn: number | undefined;
  /** Times this node released records (for /status and tests). */
  releases = 0;

  constructor(private readonly o: MoveCompletionOptions) {}

  /** Whether this node is done moving onto `epoch` (its configuration). */
  doneHere(epoch: number): boolean {
    return epoch === this.o.config().epoch && (this.releasedOn === epoch || this.o.settledHere());
  }

  /** The voters to ask this round (none when there is nothing to release or this node is not done itself). */
  toAsk(): string[] {
    const { epoch, voters } = this.o.config();
    this.reset(epoch);
    if (this.o.records().length === 0 || !this.o.settledHere()) return [];
    if (voters.every((v) => v === this.o.self || this.yes.has(v))) {
      this.releaseOn(epoch);
      return [];
    }
    return voters.filter((v) => v !== this.o.self && !this.yes.has(v));
  }

  /**
   * A voter's answer on configuration `epoch`. Returns the voters to tell that every voter is done,
   * when this answer completed the tally (the caller sends them `released`), else [].
   */
  answer(peer: string, epoch: number, a: MoveDoneAnswer): string[] {
    const { epoch: now, voters } = this.o.config();
    this.reset(now);
    if (epoch !== now || !voters.includes(peer)) return [];
    if (a.released) {
      this.releaseOn(now);
      return [];
    }
    if (!a.done) return [];
    this.yes.add(peer);
    if (!voters.every((v) => v === this.o.self || this.yes.has(v)) || !this.o.settledHere()) return [];
    return this.releaseOn(now) ? voters.filter((v) => v !== this.o.self) : [];
  }

  /** A voter of `epoch` says every voter is done on it; ignored on another configuration. */
  told(epoch: number): void {
    this.reset(this.o.config().epoch);
    if (epoch === this.o.config().epoch) this.releaseOn(epoch);
  }

  /** Whether this node released its records on `epoch`. */
  releasedAt(epoch: number): boolean {
    return this.releasedOn === epoch;
  }

  private releaseOn(epoch: number): boolean {
    if (this.releasedOn === epoch) return false;
    this.releasedOn = epoch;
    if (this.o.records().some((e) => e < epoch)) {
      this.o.release(epoch);
      this.releases++;
    }
    return true;
  }

  private reset(epoch: number): void {
    if (epoch === this.epoch) return;
    this.epoch = epoch;
    this.yes.clear();
  }
}
