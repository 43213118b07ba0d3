// Sync sessions this node started. Only initiators keep state (responders answer each message
// on its own), so this table is the whole memory of in-flight syncs; entries leave it when
// their exchange completes or when the peer stays silent past the timeout.
import type { PeerId, SyncEffect, SyncMode } from './types.js';

export interface Session {
  peer: PeerId;
  mode: SyncMode;
  startedAt: number;
  /** Documents whose deltas we still wait for; the session completes when this empties. */
  remaining: Set<string>;
  /** Documents exchanged, reported in the `synced` event. */
  docs: Set<string>;
  /** full_snapshot: documents the responder said it sent (known once snapshot-end arrives). */
  expectedDocs?: number;
  /** An anti-entropy probe the peer answers only on a difference: expires without an event. */
  quiet: boolean;
}

export class SessionTable {
  private readonly sessions = new Map<number, Session>();
  private nextId = 1;

  constructor(private readonly timeoutMs: number) {}

  open(peer: PeerId, mode: SyncMode, now: number, docs: string[] = [], quiet = false): number {
    const id = this.nextId++;
    this.sessions.set(id, { peer, mode, startedAt: now, remaining: new Set(docs), docs: new Set(docs), quiet });
    return id;
  }

  /**
   * The session `id` if it is ours with `peer` in `mode`. Checking peer and mode means a stale
   * or forged reply cannot complete someone else's session.
   */
  own(id: number, peer: PeerId, mode: SyncMode): Session | undefined {
    const s = this.sessions.get(id);
    return s && s.peer === peer && s.mode === mode ? s : undefined;
  }

  /** Completes a session: emits `synced` once (a duplicated final reply finds nothing). */
  finish(out: SyncEffect[], id: number, peer: PeerId): void {
    const s = this.sessions.get(id);
    if (!s || s.peer !== peer) return;
    this.sessions.delete(id);
    out.push({ type: 'synced', peer, mode: s.mode, docs: [...s.docs] });
  }

  expire(out: SyncEffect[], now: number): void {
    for (const [id, s] of this.sessions) {
      if (now - s.startedAt >= this.timeoutMs) {
        this.sessions.delete(id);
        if (!s.quiet) out.push({ type: 'sync-timeout', peer: s.peer, mode: s.mode, docs: [...s.docs] });
      }
    }
  }

  nextDeadline(): number | undefined {
    let t: number | undefined;
    for (const s of this.sessions.values()) t = Math.min(t ?? Infinity, s.startedAt + this.timeoutMs);
    return t;
  }

  dropPeer(peer: PeerId): void {
    for (const [id, s] of this.sessions) if (s.peer === peer) this.sessions.delete(id);
  }
}
