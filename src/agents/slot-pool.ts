// A node's agent slots: a fixed capacity (16 by default, --slots N) that tasks occupy while
// their agent runs. Agents are "spawned" into a slot on demand: acquiring a slot records which
// agent and task live there, releasing it frees the slot for the next one. Waiters are served
// first come, first served. The free count is what the node gossips as freeSlots.

export interface SlotOccupant {
  taskId: string;
  agentId: string;
}

export interface SlotLease extends SlotOccupant {
  slot: number;
  /** Frees the slot; calling it again is harmless. */
  release(): void;
}

interface Waiter {
  who: SlotOccupant;
  resolve: (lease: SlotLease) => void;
  reject: (err: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: () => void;
}

export class SlotPool {
  private readonly occupants: (SlotOccupant | null)[];
  private readonly waiters: Waiter[] = [];
  private readonly listeners = new Set<(freeSlots: number) => void>();

  constructor(readonly slots: number) {
    if (!Number.isInteger(slots) || slots < 0) throw new RangeError(`slots must be a non-negative integer, got ${slots}`);
    this.occupants = new Array<SlotOccupant | null>(slots).fill(null);
  }

  get freeSlots(): number {
    return this.occupants.filter((o) => o === null).length;
  }

  get inUse(): number {
    return this.slots - this.freeSlots;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  /** Who runs where (slot index -> occupant), for /status and the dashboard. */
  snapshot(): (SlotOccupant & { slot: number })[] {
    return this.occupants.flatMap((o, slot) => (o ? [{ slot, ...o }] : []));
  }

  /** A slot now, or undefined when all are taken (or others are already waiting: no barging). */
  tryAcquire(who: SlotOccupant): SlotLease | undefined {
    if (this.waiters.length > 0) return undefined;
    const slot = this.occupants.indexOf(null);
    return slot < 0 ? undefined : this.take(slot, who);
  }

  /** Waits for a slot; rejects with the signal's reason if aborted while waiting. */
  acquire(who: SlotOccupant, signal?: AbortSignal): Promise<SlotLease> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const now = this.tryAcquire(who);
    if (now) return Promise.resolve(now);
    return new Promise<SlotLease>((resolve, reject) => {
      const waiter: Waiter = {
        who,
        resolve,
        reject,
        signal,
        onAbort: () => {
          const i = this.waiters.indexOf(waiter);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(signal?.reason);
        },
      };
      signal?.addEventListener('abort', waiter.onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /** Called with the new free count whenever it changes (to update gossip metadata). */
  onChange(listener: (freeSlots: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private take(slot: number, who: SlotOccupant): SlotLease {
    this.occupants[slot] = { taskId: who.taskId, agentId: who.agentId };
    let released = false;
    const lease: SlotLease = {
      slot,
      taskId: who.taskId,
      agentId: who.agentId,
      release: () => {
        if (released) return;
        released = true;
        this.occupants[slot] = null;
        this.handOver(slot);
      },
    };
    this.emit();
    return lease;
  }

  /** A freed slot goes straight to the oldest waiter, so a burst of new tryAcquire cannot starve it. */
  private handOver(slot: number): void {
    const next = this.waiters.shift();
    if (!next) {
      this.emit();
      return;
    }
    next.signal?.removeEventListener('abort', next.onAbort);
    next.resolve(this.take(slot, next.who));
  }

  private emit(): void {
    const free = this.freeSlots;
    for (const l of this.listeners) l(free);
  }
}
