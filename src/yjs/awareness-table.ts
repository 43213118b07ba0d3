// The awareness states (cursors, names) of one document's clients, as a relay keeps them: never
// stored, never replicated through the quorum, only passed on. The rules are y-protocols'
// awareness CRDT: an entry is taken when its clock is newer, or equal with a null state (a
// removal); an entry not renewed for 30 s is dropped (owners renew every 15 s). Each entry
// remembers who brought it (a local connection or a peer node), so a closed connection's
// clients can be removed at once. Sans-IO: time comes in as `now`, changes go out as entries.
import type { AwarenessEntry } from './wire.js';

/** y-protocols' outdatedTimeout. */
export const AWARENESS_TIMEOUT_MS = 30_000;
/** Clients one connection may speak for (a tab is one; a stock client never sends more than its own). */
export const MAX_CLIENTS_PER_OWNER = 16;
/** Clients one document's table holds, all owners together (a bound on relay memory). */
export const MAX_CLIENTS_PER_DOC = 10_000;

interface Entry {
  clock: number;
  state: string;
  updatedAt: number;
  owner: string;
}

export class AwarenessTable {
  private readonly entries = new Map<number, Entry>();

  /** Applies entries from `owner` (who may speak for at most `maxOwned` clients); returns the ones taken (what to relay). */
  apply(owner: string, incoming: readonly AwarenessEntry[], now: number, maxOwned = MAX_CLIENTS_PER_OWNER): AwarenessEntry[] {
    const taken: AwarenessEntry[] = [];
    for (const x of incoming) {
      const prev = this.entries.get(x.clientId);
      const newer = !prev || x.clock > prev.clock || (x.clock === prev.clock && x.state === 'null' && prev.state !== 'null');
      if (!newer) continue;
      if (!prev && (this.entries.size >= MAX_CLIENTS_PER_DOC || this.countOwned(owner) >= maxOwned)) continue;
      this.entries.set(x.clientId, { clock: x.clock, state: x.state, updatedAt: now, owner });
      taken.push(x);
    }
    return taken;
  }

  /** Every live state (what a new connection is sent), or those of the owners `owned` picks. */
  live(owned?: (owner: string) => boolean): AwarenessEntry[] {
    const out: AwarenessEntry[] = [];
    for (const [clientId, e] of this.entries) if (e.state !== 'null' && (!owned || owned(e.owner))) out.push({ clientId, clock: e.clock, state: e.state });
    return out;
  }

  /** Removes the clients `owner` spoke for (its connection closed); returns the removals to relay. */
  removeOwner(owner: string, now: number): AwarenessEntry[] {
    const out: AwarenessEntry[] = [];
    for (const [clientId, e] of this.entries) {
      if (e.owner !== owner || e.state === 'null') continue;
      e.clock++;
      e.state = 'null';
      e.updatedAt = now;
      out.push({ clientId, clock: e.clock, state: 'null' });
    }
    return out;
  }

  /**
   * Drops states not renewed within the timeout (returned as removals to relay) and forgets
   * removals older than that (a late, older message for them is then taken again and expires).
   */
  expire(now: number): AwarenessEntry[] {
    const out: AwarenessEntry[] = [];
    for (const [clientId, e] of this.entries) {
      if (now - e.updatedAt < AWARENESS_TIMEOUT_MS) continue;
      if (e.state === 'null') {
        this.entries.delete(clientId);
        continue;
      }
      e.clock++;
      e.state = 'null';
      e.updatedAt = now;
      out.push({ clientId, clock: e.clock, state: 'null' });
    }
    return out;
  }

  get size(): number {
    return this.entries.size;
  }

  private countOwned(owner: string): number {
    let n = 0;
    for (const e of this.entries.values()) if (e.owner === owner && e.state !== 'null') n++;
    return n;
  }
}
