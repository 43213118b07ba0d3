// The simulator's agenda: a binary min-heap of events ordered by (time, insertion sequence).
// The sequence number breaks ties so two events at the same virtual time always run in the
// order they were scheduled, which is what makes a run replay exactly from its seed.
//
// Cancelling is lazy (the event's callback is cleared and the slot skipped when popped): removing
// from the middle of a heap costs a search, and timers are cancelled far more often than not
// (every acked probe cancels its timeout), so lazy deletion is the fast path.

export interface SimEvent {
  readonly time: number;
  readonly seq: number;
  /** Cleared on cancel; a popped event with no callback is skipped. */
  fn: (() => void) | undefined;
}

function before(x: SimEvent, y: SimEvent): boolean {
  return x.time < y.time || (x.time === y.time && x.seq < y.seq);
}

export class EventQueue {
  private readonly heap: SimEvent[] = [];
  private nextSeq = 0;
  /** Events pushed and not yet popped or cancelled. */
  private live = 0;

  get size(): number {
    return this.live;
  }

  push(time: number, fn: () => void): SimEvent {
    const ev: SimEvent = { time, seq: this.nextSeq++, fn };
    const heap = this.heap;
    let i = heap.length;
    heap.push(ev);
    // Sift up.
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent]!;
      if (!before(ev, p)) break;
      heap[i] = p;
      i = parent;
    }
    heap[i] = ev;
    this.live++;
    return ev;
  }

  cancel(ev: SimEvent): void {
    if (ev.fn === undefined) return;
    ev.fn = undefined;
    this.live--;
  }

  /** Time of the earliest live event, or undefined when none is left. */
  peekTime(): number | undefined {
    this.dropCancelledHead();
    return this.heap[0]?.time;
  }

  /** Removes and returns the earliest live event. */
  pop(): SimEvent | undefined {
    this.dropCancelledHead();
    const ev = this.popRaw();
    if (ev) this.live--;
    return ev;
  }

  private dropCancelledHead(): void {
    // Bounded by the heap size: each iteration removes one element.
    while (this.heap.length > 0 && this.heap[0]!.fn === undefined) this.popRaw();
  }

  private popRaw(): SimEvent | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (top === undefined || last === undefined || heap.length === 0) return top;
    // Sift the last element down from the root.
    const n = heap.length;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const child = r < n && before(heap[r]!, heap[l]!) ? r : l;
      if (!before(heap[child]!, last)) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = last;
    return top;
  }
}
