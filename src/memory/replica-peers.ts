// What a node answers other members about the documents it holds as a replica, and what it refuses:
//   hold-check  "compare your copy with my snapshot" (handoff asks a continuing replica whether it
//               already holds everything instead of pushing it the whole document; completing a
//               move asks the previous sets whether this node holds what they hold: hold-check.ts)
//   move-done   "are you done moving onto configuration E?" (move-completion.ts: once every voter
//               of E is, the previous configurations' records drop everywhere); with a document:
//               "its move onto E is complete" (a majority of its set on E holds everything of
//               its previous sets' majorities: move-settle.ts), so its writes need the new set only
// Each question is refused, changes nothing, and is counted by reason when the asker is not a
// member (a voter now or on a kept previous configuration), is on another configuration, or asks
// about a document this node neither is a replica of nor holds. Sans-IO: plain objects in, answers out.
import type * as Y from 'yjs';
import { ConfigError } from '../errors.js';
import { placementKeyOf } from '../placement/replica-scope.js';
import { compareHeld, type HoldAnswer } from './hold-check.js';
import type { MoveCompletion, MoveDoneAnswer } from './move-completion.js';
import type { ReplicaView } from './replica-view.js';

export type Refusal = 'non-member' | 'other-configuration' | 'not-replica';

export interface HoldCheckRequest {
  from: string;
  epoch: number;
  doc: string;
  snapshot: Uint8Array;
}

export interface MoveDoneRequest {
  from: string;
  epoch: number;
  /** The asker saw every voter of `epoch` done and released its records: the receiver may too. */
  released?: boolean;
  /** The asker completed this document's move onto `epoch`: the receiver marks it complete too. */
  doc?: string;
}

export interface ReplicaPeersOptions {
  view: ReplicaView;
  docs: { has(id: string): boolean; doc(id: string): Y.Doc };
  /** This node's side of announced move completion (move-completion.ts). */
  completion: Pick<MoveCompletion, 'doneHere' | 'releasedAt' | 'told'>;
  /** A document's move was marked complete on another member's word (writes waiting for previous sets may be done). */
  onDocMoved?: (docId: string) => void;
}

/** A refused question: the asker gets this error; nothing changed here. */
export class RefusedError extends ConfigError {
  constructor(
    readonly reason: Refusal,
    message: string,
  ) {
    super(message);
  }
}

export class ReplicaPeers {
  /** Questions refused, by reason (/status `placement.peerRefused`). */
  readonly refused: Record<Refusal, number> = { 'non-member': 0, 'other-configuration': 0, 'not-replica': 0 };
  /** Hold-checks answered. */
  holdChecks = 0;
  /** Document moves marked complete here on another member's word. */
  docsMoved = 0;

  constructor(private readonly o: ReplicaPeersOptions) {}

  /**
   * Compares this node's copy of `doc` with the asker's snapshot (hold-check.ts). Asked of a
   * replica of `doc` on the asker's configuration, or of a member of one of its previous sets
   * (completing a move asks those whether the asker holds what they hold).
   */
  holdCheck(req: HoldCheckRequest): HoldAnswer {
    this.admit(req.from, req.epoch, 'hold-check');
    const scope = this.o.view.current();
    const held = this.o.docs.has(req.doc);
    if (placementKeyOf(req.doc) === undefined || !(scope.isReplica(req.doc) || held || this.o.view.moves.inPreviousSet(req.doc))) {
      this.refuse('not-replica', `hold-check for ${req.doc} refused: this node (${scope.self}) is not one of its replicas on configuration ${scope.epoch} and does not hold it`);
    }
    this.holdChecks++;
    return compareHeld(held ? this.o.docs.doc(req.doc) : null, req.snapshot);
  }

  /** Whether this node is done moving onto configuration `epoch` (it must be its own); a `released` teller makes it release too. */
  moveDone(req: MoveDoneRequest): MoveDoneAnswer {
    this.admit(req.from, req.epoch, 'move-done');
    if (req.doc !== undefined) this.docMoved(req.doc, req.epoch);
    if (req.released) this.o.completion.told(req.epoch);
    return { done: this.o.completion.doneHere(req.epoch), released: this.o.completion.releasedAt(req.epoch) };
  }

  /**
   * Another member completed `doc`'s move onto `epoch` (ours: admit checked it), as its own
   * settle marked it: a majority of the doc's set on `epoch` acknowledged everything a majority of
   * each previous set held, a fact for every node on `epoch`. Only about a document this node is
   * a replica of, holds, or was a replica of on a previous configuration (it writes or acks it).
   */
  private docMoved(doc: string, epoch: number): void {
    const view = this.o.view;
    const scope = view.current();
    if (placementKeyOf(doc) === undefined || !(scope.isReplica(doc) || this.o.docs.has(doc) || view.moves.inPreviousSet(doc))) {
      this.refuse('not-replica', `move-done for ${doc} refused: this node (${scope.self}) is not one of its replicas on configuration ${scope.epoch} and does not hold it`);
    }
    if (view.previousSets(doc).length === 0) return; // not moving here (or complete already)
    view.moves.markDone(doc, epoch);
    this.docsMoved++;
    this.o.onDocMoved?.(doc);
  }

  /** Total refusals (for metrics). */
  refusedTotal(): number {
    return this.refused['non-member'] + this.refused['other-configuration'] + this.refused['not-replica'];
  }

  private admit(from: string, epoch: number, what: string): void {
    const scope = this.o.view.current();
    const prev = this.o.view.previous();
    const member = (s: { config: { voters: ReadonlyArray<{ name: string }> } } | undefined): boolean => s !== undefined && s.config.voters.some((v) => v.name === from);
    // A displaced holder that left the voters (a graceful leave draining) was a voter of the configuration before.
    if (from === scope.self || !(member(scope) || member(prev) || this.o.view.moves.wasVoter(from))) {
      this.refuse('non-member', `${what} from ${from} refused: not a voter of configuration ${scope.epoch} nor of a previous one kept here`);
    }
    if (epoch !== scope.epoch) this.refuse('other-configuration', `${what} from ${from} refused: it is on configuration ${epoch}, this node on ${scope.epoch}`);
  }

  private refuse(reason: Refusal, message: string): never {
    this.refused[reason]++;
    throw new RefusedError(reason, message);
  }
}
