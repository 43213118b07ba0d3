// The calls of the voter-set protocol (split out of reconfiguration.ts): a batch of calls sent
// together whose continuation runs once every reply is in, or at its guard time when the driver
// never delivered some (a failed call's reply is undefined, so normally every call answers).
// Sans-IO: it returns `call` directives for the driver and takes the replies back by id.
import type { Logger } from '../runtime/types.js';

/** How long a phase waits for answers (each call's own timeout; the core gives up a little later). */
export const ROUND_TIMEOUT_MS = 2000;
/** Slack past ROUND_TIMEOUT_MS after which a phase stops waiting for replies the driver never delivered. */
const ROUND_GUARD_SLACK_MS = 500;

export type CallDirective = { kind: 'call'; id: number; to: string; method: string; payload: Uint8Array; timeoutMs: number };

/** Replies awaited together; `then` runs once all are in, or at `guardAt`. */
interface Batch {
  ids: Set<number>;
  replies: Map<string, Uint8Array>;
  guardAt: number;
  then: (replies: Map<string, Uint8Array>, now: number) => void;
  /** Ends the round as failed when `then` throws (say, the store closed under a stopping node). */
  fail: (now: number) => void;
}

export class CallBatches {
  private nextId = 1;
  private readonly calls = new Map<number, { batch: Batch; name: string }>();
  private readonly batches = new Set<Batch>();

  constructor(private readonly log: Logger) {}

  /** A fresh id (calls and round tokens share the sequence). */
  id(): number {
    return this.nextId++;
  }

  /**
   * Sends `payload` to each of `to` (name and address) as `method`, pushing the call directives
   * to `out`; `then` gets the replies that came. With nobody to ask it runs at once.
   */
  send(to: ReadonlyArray<{ name: string; address: string }>, method: string, payload: Uint8Array, now: number, out: { push(d: CallDirective): void }, then: Batch['then'], fail: Batch['fail']): void {
    const batch: Batch = { ids: new Set(), replies: new Map(), guardAt: now + ROUND_TIMEOUT_MS + ROUND_GUARD_SLACK_MS, then, fail };
    for (const p of to) {
      const id = this.nextId++;
      batch.ids.add(id);
      this.calls.set(id, { batch, name: p.name });
      out.push({ kind: 'call', id, to: p.address, method, payload, timeoutMs: ROUND_TIMEOUT_MS });
    }
    if (batch.ids.size === 0) return this.continue(batch, now);
    this.batches.add(batch);
  }

  /** The earliest guard time of a batch still waiting. */
  nextGuard(): number {
    let at = Infinity;
    for (const b of this.batches) if (b.guardAt < at) at = b.guardAt;
    return at;
  }

  /** Ends the batches whose guard time passed, with the replies they have. */
  expire(now: number): void {
    for (const b of [...this.batches]) {
      if (b.guardAt > now || !this.batches.has(b)) continue;
      for (const id of b.ids) this.calls.delete(id);
      b.ids.clear();
      this.batches.delete(b);
      this.continue(b, now);
    }
  }

  /** The reply to call `id` (undefined when it failed: unreachable, refused, timed out). */
  reply(id: number, bytes: Uint8Array | undefined, now: number): void {
    const c = this.calls.get(id);
    if (!c) return;
    this.calls.delete(id);
    c.batch.ids.delete(id);
    if (bytes) c.batch.replies.set(c.name, bytes);
    if (c.batch.ids.size === 0 && this.batches.delete(c.batch)) this.continue(c.batch, now);
  }

  /** Runs a batch's continuation; one that throws ends its round as failed, never the caller. */
  private continue(b: Batch, now: number): void {
    try {
      b.then(b.replies, now);
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, 'voter-set round failed');
      b.fail(now);
    }
  }
}
