// The sync engine: one state machine per node that runs sync sessions with its peers in the four
// modes of DESIGN.md. Sans-IO: `handle` takes a peer's message, `tick` the time, `localUpdate` a
// local write; each returns effects (messages to send, events) for the driver to carry out.
//
// Sessions are owned by their initiator, who numbers them; responders keep no session state and
// answer each message on its own, so a lost or duplicated message costs a retry, never a stuck
// peer. Initiator sessions expire after `sessionTimeoutMs`.
//
// An in-sync anti-entropy round is one message: the initiator's root digest, which the peer
// answers only when its own differs. A lost probe or answer only loses that round; the next
// one (every `antiEntropyIntervalMs`) starts afresh, so nothing waits on it.
import { DecodeError } from '../errors.js';
import { AckBatcher } from './ack-batcher.js';
import { bucketsToDocs, deltasForDiffering, differingDocs, groupsToBuckets, respondToRoot } from './anti-entropy.js';
import { EMPTY_STATE_VECTOR } from './batch.js';
import { Reassembler } from './chunker.js';
import { syncConfig, type SyncConfig } from './config.js';
import { DigestTree } from './digest-tree.js';
import { NameDictionary, PeerNameTables, randomEpoch, type NameReader } from './doc-names.js';
import { UnknownRefError, decodeMessageWithNames, type DocDeltaEntry, type DocDigestEntry, type SyncMessage } from './messages.js';
import { Outbox } from './outbox.js';
import { PushSender } from './push-sender.js';
import { RemoteApplier } from './remote-apply.js';
import { ReplicaFilter, type SyncScope } from './replica-filter.js';
import { SessionTable } from './sessions.js';
import { StatsCounter, type SyncStats } from './stats.js';
import { isRemoteOrigin, type DocSet, type PeerId, type SyncEffect } from './types.js';
import { checkPayloads } from './validate.js';

export interface SyncEngineOptions {
  docs: DocSet;
  config?: Partial<SyncConfig>;
  /** This engine's document-numbering epoch (doc-names.ts); random by default. */
  epoch?: number;
  /** The word our acknowledgements carry (the node's voter-configuration word); 0 by default. */
  ackWord?: () => number;
  /** Replica sets (src/placement/replica-scope.ts): who gets which document. None: every peer gets everything. */
  scope?: SyncScope;
}

export class SyncEngine {
  readonly config: SyncConfig;
  private readonly docs: DocSet;
  private readonly tree: DigestTree;
  /** Insertion-ordered, for round-robin anti-entropy. */
  private readonly peers = new Set<PeerId>();
  private nextPeer = 0;
  private nextAntiEntropyAt = 0; // 0: at the first tick
  private nextRequestId = 1;
  private readonly sessions: SessionTable;
  private readonly reassembler: Reassembler;
  private readonly counters = new StatsCounter();
  private readonly outbox: Outbox;
  private lastNow = 0;
  private readonly names: NameDictionary;
  private readonly ackWord: () => number;
  private readonly peerNames = new PeerNameTables();
  private readonly readers = new Map<PeerId, NameReader>();
  private readonly pusher: PushSender;
  private readonly replicas: ReplicaFilter;
  private readonly acks: AckBatcher;
  private readonly inbound: RemoteApplier;

  constructor(opts: SyncEngineOptions) {
    this.config = syncConfig(opts.config);
    this.docs = opts.docs;
    this.tree = new DigestTree((id) => this.docs.digest(id));
    for (const id of this.docs.ids()) this.tree.markDirty(id);
    this.docs.onLocalUpdate((id) => this.tree.markDirty(id));
    this.sessions = new SessionTable(this.config.sessionTimeoutMs);
    this.reassembler = new Reassembler(this.config.reassembly);
    this.names = new NameDictionary(opts.epoch ?? randomEpoch());
    this.ackWord = opts.ackWord ?? (() => 0);
    this.replicas = new ReplicaFilter(opts.scope, this.docs);
    this.outbox = new Outbox(this.config.maxMessageBytes, this.counters, (peer) => this.names.writerFor(peer, this.peerNames));
    this.pusher = new PushSender(this.names, this.outbox, this.config.maxMessageBytes);
    this.acks = new AckBatcher(this.outbox, this.ackWord, this.config.coalescePushes);
    this.inbound = new RemoteApplier({ docs: this.docs, tree: this.tree, replicas: this.replicas, acks: this.acks, sessions: this.sessions, outbox: this.outbox, config: this.config });
  }

  // ---- peers -------------------------------------------------------------------------------

  addPeer(peer: PeerId): void {
    this.peers.add(peer);
  }

  /** Forgets a peer that left or failed: its sessions, partial messages and resync marks. */
  removePeer(peer: PeerId): void {
    this.peers.delete(peer);
    this.sessions.dropPeer(peer);
    this.inbound.forgetPeer(peer);
    this.reassembler.forgetPeer(peer);
    this.names.forgetPeer(peer);
    this.peerNames.forgetPeer(peer);
    this.readers.delete(peer);
  }

  peerList(): PeerId[] {
    return [...this.peers];
  }

  // ---- what the driver calls ---------------------------------------------------------------

  /** The 16-byte root of the digest tree: equal roots mean equal document sets. */
  rootDigest(): Uint8Array {
    this.refreshTree();
    return this.tree.root();
  }

  stats(): SyncStats {
    return this.counters.snapshot();
  }

  /**
   * continuous mode: push an update to every peer except the one it came from. Call it for
   * every DocSet update, passing the update's Yjs origin: updates the engine applied carry a
   * RemoteOrigin and are not pushed on (unless relayRemoteUpdates), never back to their sender.
   */
  localUpdate(docId: string, update: Uint8Array, origin: unknown): SyncEffect[] {
    this.tree.markDirty(docId);
    const from = isRemoteOrigin(origin) ? origin.remotePeer : undefined;
    if (from !== undefined && !this.config.relayRemoteUpdates) return [];
    const others = [...this.peers].filter((p) => p !== from);
    const targets = this.replicas.pushTargets(docId, others);
    if (targets.length === 0) return [];
    const requestId = this.nextRequestId++;
    const out: SyncEffect[] = [];
    if (this.config.coalescePushes) this.pusher.stage(targets, requestId, docId, update);
    else this.pusher.push(out, targets, requestId, docId, update, this.lastNow);
    out.push({ type: 'pushed', docId, requestId, peers: targets });
    return out;
  }

  /**
   * coalescePushes: sends the pushes localUpdate staged since the last call, one `updates`
   * message per peer (an `update` where a peer gets only one). The driver calls it once the
   * code that made the writes is done (the end of the turn), before their group commit.
   */
  flushPushes(now: number = this.lastNow): SyncEffect[] {
    this.lastNow = now;
    const out: SyncEffect[] = [];
    if (this.pusher.hasStaged()) this.pusher.flush(out, now);
    return out;
  }

  /** Pushes in an `updates` message refused so far (malformed or outside the schema; the others were stored and acknowledged). */
  refusedPushes(): number {
    return this.inbound.refused();
  }

  /** delta_only: start one anti-entropy round with `peer` (tick() does this periodically). */
  startAntiEntropy(peer: PeerId, now: number = this.lastNow): SyncEffect[] {
    this.lastNow = now;
    this.refreshTree();
    // Quiet: an equal peer does not answer, so silence means "in sync or lost", not a failure.
    const session = this.sessions.open(peer, 'delta_only', now, [], true);
    return this.emit(peer, { kind: 'ae-root', session, root: this.treeFor(peer).root() });
  }

  /**
   * Pushes the whole of `docId` to `targets` as one acknowledged update (handoff: a node giving a
   * document away counts the acks before it drops its copy). Returns the request id, or undefined
   * when there is nobody to send it to.
   */
  pushWhole(docId: string, targets: readonly PeerId[], now: number = this.lastNow, since: Uint8Array = EMPTY_STATE_VECTOR): { requestId: number; effects: SyncEffect[] } | undefined {
    this.lastNow = now;
    if (targets.length === 0) return undefined;
    const requestId = this.nextRequestId++;
    const out: SyncEffect[] = [];
    this.pusher.push(out, targets, requestId, docId, this.docs.diff(docId, since), now);
    return { requestId, effects: out };
  }

  /** Forgets a document the node dropped (the DocSet no longer holds it). */
  forgetDoc(docId: string): void {
    this.tree.remove(docId);
    this.pusher.forgetDoc(docId);
  }

  /** Remote updates refused so far because this node is not a replica of their document. */
  refused(): number {
    return this.replicas.refused();
  }

  /** The digest tree anti-entropy with `peer` compares: the documents both should hold. */
  private treeFor(peer: PeerId): DigestTree {
    this.refreshTree();
    return this.replicas.treeFor(this.tree, peer);
  }

  /** full_snapshot: pull every document `peer` has (a joining node). */
  requestFullSnapshot(peer: PeerId, now: number = this.lastNow): SyncEffect[] {
    const session = this.sessions.open(peer, 'full_snapshot', now);
    return this.emit(peer, { kind: 'snapshot-request', session });
  }

  /** on_demand: pull what `peer` has of one document (before reading it). */
  syncDocument(peer: PeerId, docId: string, now: number = this.lastNow): SyncEffect[] {
    const session = this.sessions.open(peer, 'on_demand', now, [docId]);
    return this.emit(peer, { kind: 'doc-states', session, mode: 'on_demand', entries: [{ id: docId, sv: this.docs.stateVector(docId) }] });
  }

  /** Expires sessions and partial messages, and starts anti-entropy rounds when due. */
  tick(now: number): SyncEffect[] {
    this.lastNow = now;
    const out: SyncEffect[] = [];
    this.sessions.expire(out, now);
    this.reassembler.expire(now);
    this.inbound.expire(now);
    this.pusher.expire(now, this.config.sessionTimeoutMs);
    if (now >= this.nextAntiEntropyAt) {
      this.nextAntiEntropyAt = now + this.config.antiEntropyIntervalMs;
      const peers = [...this.peers];
      const n = Math.min(this.config.antiEntropyPeersPerRound, peers.length);
      for (let i = 0; i < n; i++) out.push(...this.startAntiEntropy(peers[this.nextPeer++ % peers.length]!, now));
    }
    return out;
  }

  /** When `tick` next has work to do. */
  nextDeadline(): number {
    return Math.min(this.nextAntiEntropyAt, this.sessions.nextDeadline() ?? Infinity, this.reassembler.nextDeadline() ?? Infinity);
  }

  /**
   * Handles one message from `peer`. Throws DecodeError (OversizeError for reassembly limits)
   * when the bytes are malformed; the message is then dropped whole, before anything is applied.
   */
  handle(peer: PeerId, bytes: Uint8Array, now: number): SyncEffect[] {
    this.lastNow = now;
    let reader = this.readers.get(peer);
    if (!reader) {
      reader = this.peerNames.readerFor(peer, this.names);
      if (this.peers.has(peer)) this.readers.set(peer, reader);
    }
    const out: SyncEffect[] = [];
    let decoded;
    try {
      decoded = decodeMessageWithNames(bytes, reader);
      if (decoded.msg.kind === 'chunk') {
        // Received chunk frames count as 'chunk' (a middle chunk cannot tell what it carries);
        // the sender counts them under the kind they carry.
        this.counters.received('chunk', bytes.byteLength);
        const whole = this.reassembler.add(peer, decoded.msg, now);
        if (!whole) return [];
        decoded = decodeMessageWithNames(whole, reader);
        if (decoded.msg.kind === 'chunk') throw new DecodeError('malformed sync message: a chunk inside a chunk; dropped');
      } else {
        this.counters.received(decoded.msg.kind, bytes.byteLength);
      }
    } catch (err) {
      if (!(err instanceof UnknownRefError)) throw err;
      // Not malformed: the peer numbers a document we have no table for (we restarted, or
      // forgot the peer). Tell it, so it defines its numbers again and resends.
      this.outbox.send(out, peer, { kind: 'unknown-ref', requestId: err.requestId });
      return out;
    }
    const msg = decoded.msg;
    this.inbound.markEqual(msg);
    checkPayloads(msg, (e) => this.inbound.isMarkedEqual(e));
    if (decoded.epoch !== undefined) this.peerNames.define(peer, decoded.epoch, decoded.defs);
    this.dispatch(out, peer, msg, now);
    return out;
  }

  // ---- message handlers --------------------------------------------------------------------

  private dispatch(out: SyncEffect[], peer: PeerId, m: SyncMessage, now: number): void {
    switch (m.kind) {
      case 'ae-root': {
        const reply = respondToRoot(this.treeFor(peer), m.session, m.root, this.config.listAllDocsUpTo, (id) => this.docs.stateVector(id));
        if (reply) this.outbox.send(out, peer, reply);
        return;
      }
      case 'ae-done':
        return this.sessions.finish(out, m.session, peer);
      case 'ae-groups': {
        const s = this.sessions.own(m.session, peer, 'delta_only');
        if (!s) return;
        s.quiet = false;
        const reply = groupsToBuckets(this.treeFor(peer), m.session, m.hashes);
        // No group differs any more: we converged while the round was in flight.
        return reply ? this.outbox.send(out, peer, reply) : this.sessions.finish(out, m.session, peer);
      }
      case 'ae-buckets':
        return this.outbox.send(out, peer, bucketsToDocs(this.treeFor(peer), m.session, m.groups, (id) => this.docs.stateVector(id)));
      case 'ae-docs': {
        const s = this.sessions.own(m.session, peer, 'delta_only');
        if (!s) return;
        // A document only the peer lists is taken only if this node may hold it.
        const ids = differingDocs(this.treeFor(peer), m.all, m.buckets, m.docs).filter((id) => this.replicas.mayApply(id));
        for (const id of ids) s.docs.add(id);
        if (ids.length > 0) this.sendDeltasFor(out, peer, m.session, ids, m.docs);
        // Nothing more to wait for: the peer answers only if it still differs after our deltas
        // (and we apply that answer whenever it comes); a loss is repaired by the next round.
        return this.sessions.finish(out, m.session, peer);
      }
      case 'doc-states': {
        // Answer each state vector with our diff, plus our own state vector (and digest check,
        // so the initiator answers only if it still differs) unless pull-only.
        const withSV = m.mode !== 'on_demand';
        const deltas = m.entries.map(({ id, sv }): DocDeltaEntry => {
          const update = this.docs.diff(id, sv);
          return withSV ? { id, update, sv: this.docs.stateVector(id), check: this.inbound.check(id) } : { id, update };
        });
        return this.inbound.sendDeltas(out, peer, m.session, m.mode, true, deltas);
      }
      case 'doc-deltas':
        return this.inbound.onDeltas(out, peer, m.session, m.mode, m.reply, m.entries, now);
      case 'update':
        return this.inbound.onPush(out, peer, m.docId, m.update, m.requestId, now);
      case 'updates':
        return this.inbound.onPushes(out, peer, m.entries, now);
      case 'ack':
        this.names.acked(peer, m.requestId);
        out.push({ type: 'ack', peer, requestId: m.requestId, word: m.word ?? 0 });
        return;
      case 'acks':
        for (const requestId of m.requestIds) {
          this.names.acked(peer, requestId);
          out.push({ type: 'ack', peer, requestId, word: m.word ?? 0 });
        }
        return;
      case 'unknown-ref': {
        // The peer lost our numbering (or we used its numbers from an epoch it no longer has):
        // define everything again, and resend the push it could not place (or, if we no longer
        // have it, repair by anti-entropy).
        this.names.forgetPeer(peer);
        this.peerNames.forgetPeer(peer);
        if (!this.pusher.resend(out, peer, m.requestId, now)) out.push(...this.startAntiEntropy(peer, now));
        return;
      }
      case 'snapshot-request': {
        // The requester is (re)starting: a restarted process lost both numberings of its previous
        // life (ours and its own) and would refuse the whole snapshot (unknown-ref), nothing to resend.
        this.names.forgetPeer(peer);
        this.peerNames.forgetPeer(peer);
        this.refreshTree();
        const ids = this.replicas.snapshotIds(this.tree, peer);
        // With our digest check, so a document the requester holds equally already is skipped there.
        const full = ids.map((id) => ({ id, update: this.docs.diff(id, EMPTY_STATE_VECTOR), check: this.inbound.check(id) }));
        this.inbound.sendDeltas(out, peer, m.session, 'full_snapshot', true, full);
        return this.outbox.send(out, peer, { kind: 'snapshot-end', session: m.session, docs: ids.length });
      }
      case 'snapshot-end': {
        // Deltas may arrive after the end marker on a reordering network: finish on whichever is last.
        const s = this.sessions.own(m.session, peer, 'full_snapshot');
        if (!s) return;
        s.expectedDocs = m.docs;
        if (s.docs.size >= m.docs) this.sessions.finish(out, m.session, peer);
        return;
      }
      case 'chunk':
        return; // unreachable: handle() unwraps chunks
    }
  }

  /** Whether acks wait for takeAcks (coalescePushes). */
  hasStagedAcks(): boolean {
    return this.acks.has();
  }

  /**
   * coalescePushes: the acks staged since the last call, one message per peer. The driver takes
   * them together with the group commit that stores the updates they acknowledge, and sends
   * them only once that commit is durable (as it does with every ack).
   */
  takeAcks(): SyncEffect[] {
    return this.acks.take();
  }

  // ---- helpers -----------------------------------------------------------------------------

  /** Picks up documents the DocSet holds but never announced through an update (created empty). */
  private refreshTree(): void {
    const ids = this.docs.ids();
    if (ids.length === this.tree.size) return;
    for (const id of ids) if (this.tree.docDigest(id) === undefined) this.tree.markDirty(id);
  }

  private emit(peer: PeerId, m: SyncMessage): SyncEffect[] {
    const out: SyncEffect[] = [];
    this.outbox.send(out, peer, m);
    return out;
  }

  /** Anti-entropy's last step at the initiator: the deltas for the documents that differ. */
  private sendDeltasFor(out: SyncEffect[], peer: PeerId, session: number, ids: string[], theirs: DocDigestEntry[]): void {
    this.inbound.sendDeltas(out, peer, session, 'delta_only', false, deltasForDiffering(ids, theirs, this.docs, (id) => this.inbound.check(id)));
  }
}
