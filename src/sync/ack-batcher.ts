// Acknowledgements of continuous pushes: sent at once, or (coalescePushes) staged until the driver
// takes them with the group commit that stores their updates, then one message per peer and
// configuration word (`acks`, or `ack` for a single push).
import type { Outbox } from './outbox.js';
import type { PeerId, SyncEffect } from './types.js';

export class AckBatcher {
  private readonly staged = new Map<string, { peer: PeerId; word: number; ids: number[] }>();

  constructor(
    private readonly outbox: Outbox,
    private readonly ackWord: () => number,
    private readonly coalesce: boolean,
  ) {}

  /** Acks `requestIds` to `peer`: now, or staged for take(). Call only once their updates are stored. */
  acknowledge(out: SyncEffect[], peer: PeerId, requestIds: readonly number[]): void {
    const word = this.ackWord();
    if (!this.coalesce) return this.send(out, peer, requestIds, word);
    const key = `${word}\0${peer}`;
    const s = this.staged.get(key);
    if (s) s.ids.push(...requestIds);
    else this.staged.set(key, { peer, word, ids: [...requestIds] });
  }

  has(): boolean {
    return this.staged.size > 0;
  }

  /** The staged acks as messages, one per peer and word; clears them. */
  take(): SyncEffect[] {
    const out: SyncEffect[] = [];
    for (const { peer, word, ids } of this.staged.values()) this.send(out, peer, ids, word);
    this.staged.clear();
    return out;
  }

  private send(out: SyncEffect[], peer: PeerId, requestIds: readonly number[], word: number): void {
    if (requestIds.length === 1) this.outbox.send(out, peer, { kind: 'ack', requestId: requestIds[0]!, word });
    else this.outbox.send(out, peer, { kind: 'acks', requestIds: [...requestIds], word });
  }
}
