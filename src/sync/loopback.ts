// An in-process message loop that wires several SyncEngines together: the test bench for the
// sync protocol and a building block for benchmarks. It carries out `send` effects through a
// queue and records events; faults (drop, duplicate, reorder) come from a caller-supplied
// decision function, so runs stay deterministic under a seeded generator.
import { DecodeError } from '../errors.js';
import type { SyncConfig } from './config.js';
import { SyncEngine } from './engine.js';
import type { SyncScope } from './replica-filter.js';
import type { DocSet, PeerId, SyncEffect, SyncEvent } from './types.js';

export interface InFlight {
  from: PeerId;
  to: PeerId;
  bytes: Uint8Array;
}

/** What happens to the message at the head of the queue. */
export type Fate = 'deliver' | 'drop' | 'duplicate' | 'defer';

export interface LoopNode<D extends DocSet> {
  name: PeerId;
  docs: D;
  engine: SyncEngine;
}

export class LoopbackNet<D extends DocSet> {
  readonly nodes = new Map<PeerId, LoopNode<D>>();
  readonly queue: InFlight[] = [];
  readonly events: Array<{ node: PeerId; event: SyncEvent }> = [];
  readonly decodeErrors: Array<{ node: PeerId; error: DecodeError }> = [];
  /** Bytes handed to the network, by sender. */
  wireBytes = 0;
  now = 0;
  /** When true, local updates are pushed at once (continuous mode). */
  continuous = true;

  /** Adds a node and makes every node a peer of every other. */
  add(name: PeerId, docs: D, config?: Partial<SyncConfig>, scope?: SyncScope): LoopNode<D> {
    const engine = new SyncEngine({ docs, config, scope });
    const node = { name, docs, engine };
    for (const other of this.nodes.values()) {
      other.engine.addPeer(name);
      engine.addPeer(other.name);
    }
    this.nodes.set(name, node);
    docs.onLocalUpdate((id, update, origin) => {
      if (this.continuous) this.effects(name, engine.localUpdate(id, update, origin));
    });
    return node;
  }

  node(name: PeerId): LoopNode<D> {
    const n = this.nodes.get(name);
    if (!n) throw new Error(`no node ${name}`);
    return n;
  }

  /** Carries out effects produced by `from`'s engine. */
  effects(from: PeerId, effects: SyncEffect[]): void {
    for (const e of effects) {
      if (e.type === 'send') {
        this.queue.push({ from, to: e.peer, bytes: e.bytes });
        this.wireBytes += e.bytes.byteLength;
      } else {
        this.events.push({ node: from, event: e });
      }
    }
  }

  /** Delivers queued messages until the queue is empty (or `maxSteps`); returns steps taken. */
  run(fate: (m: InFlight) => Fate = () => 'deliver', maxSteps = 100_000): number {
    let steps = 0;
    while (this.queue.length > 0 && steps < maxSteps) {
      steps++;
      const m = this.queue.shift()!;
      const f = fate(m);
      if (f === 'drop') continue;
      if (f === 'defer') {
        this.queue.push(m);
        continue;
      }
      this.deliver(m);
      if (f === 'duplicate') this.deliver(m);
    }
    return steps;
  }

  deliver(m: InFlight): void {
    const node = this.nodes.get(m.to);
    if (!node) return;
    try {
      this.effects(m.to, node.engine.handle(m.from, m.bytes, this.now));
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      this.decodeErrors.push({ node: m.to, error: err });
    }
  }

  /** Runs one anti-entropy round from `a` to `b` to completion; returns the bytes it cost. */
  antiEntropy(a: PeerId, b: PeerId): number {
    const before = this.wireBytes;
    this.effects(a, this.node(a).engine.startAntiEntropy(b, this.now));
    this.run();
    return this.wireBytes - before;
  }

  eventsOf(node: PeerId, type: SyncEvent['type']): SyncEvent[] {
    return this.events.filter((e) => e.node === node && e.event.type === type).map((e) => e.event);
  }
}
