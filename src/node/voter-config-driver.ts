// Runs the sans-IO voter-set protocol (src/quorum/reconfiguration.ts) on a node: its requests and
// notices over the RPC endpoint, its deadlines on the shared deadline timer, and its directives
// turned into calls, notices and the node's callbacks. The public entry points a node (or an
// operator command) uses: drive(), contact(), countedWord(), catchUpFrom(), leave(), propose().
import { isIP } from 'node:net';
import type { RpcEndpoint } from '../rpc/endpoint.js';
import { METHODS } from '../rpc/methods.js';
import { DeadlineTimer } from '../runtime/deadline-timer.js';
import type { Logger, Runtime } from '../runtime/types.js';
import type { QuorumGate } from '../quorum/quorum-gate.js';
import { Reconfiguration, type ConfigPeer, type ReconfigDirective } from '../quorum/reconfiguration.js';
import type { VoterChange, VoterConfig } from '../quorum/voter-config.js';

export type { ConfigPeer } from '../quorum/reconfiguration.js';

export interface VoterConfigDriverOptions {
  self: string;
  gate: QuorumGate;
  rpc: RpcEndpoint;
  runtime: Runtime;
  log: Logger;
  peers: () => ConfigPeer[];
  /** The addresses this node was told to join (--join): it founds by bootstrap only once one of them is a live member. */
  seeds?: readonly string[];
  /** After this node chose a configuration (it then tells everyone); `back` are removed members it admitted again. */
  onChosen: (config: VoterConfig, back: string[]) => void;
  /** After this node adopted any newer configuration. */
  onAdopted: () => void;
  /** Run drive() again soon (a planned change is due). */
  wake: () => void;
  /** After what we know directly of `name`'s configuration changed (quorum counts change). */
  onVerified: (name: string) => void;
  /** `name` holds stale metadata of ours (it pushed us a configuration we have): send it our current metadata. */
  onStaleView: (name: string) => void;
}

export class VoterConfigDriver {
  readonly core: Reconfiguration;
  private readonly timer: DeadlineTimer;
  private readonly waiting = new Map<number, (ok: boolean) => void>();
  private stopped = false;

  constructor(private readonly o: VoterConfigDriverOptions) {
    const { rpc, runtime } = o;
    // Seeds are matched to members by address, so the rule holds only when every seed is an IP
    // address (a host name would never match: that node founds as before rather than never).
    const seeds = new Set(o.seeds ?? []);
    const byAddress = [...seeds].every((s) => isIP(/^\[(.*)\]:\d+$/.exec(s)?.[1] ?? s.replace(/:\d+$/, '')) !== 0);
    const mayFound = (): boolean => seeds.size === 0 || !byAddress || o.peers().some((p) => p.alive && seeds.has(p.address));
    this.core = new Reconfiguration({ self: o.self, gate: o.gate, log: o.log, peers: o.peers, random: () => runtime.rng.next(), mayFound });
    this.timer = new DeadlineTimer(runtime, () => this.core.nextDeadline(), (now) => {
      if (!this.stopped) this.apply(this.core.tick(now));
    });
    for (const method of [METHODS.quorumPrepare, METHODS.quorumAccept, METHODS.quorumConfig]) {
      // A malformed request throws DecodeError: the RPC layer answers it with an error, nothing changes.
      rpc.handle(method, 'member', (payload) => this.core.answer(method, payload, runtime.clock.now()));
    }
    rpc.onNotify(METHODS.quorumCommit, 'member', (payload) => {
      if (!this.stopped) this.apply(this.core.receiveCommit(payload, runtime.clock.now()));
    });
  }

  /** The periodic step: run at every quorum check. */
  drive(now: number): void {
    this.apply(this.core.drive(now));
  }

  /** A packet came from `name`, whose gossiped config word is `gossiped`. */
  contact(name: string, gossiped: number): void {
    this.apply(this.core.contact(name, gossiped, this.o.runtime.clock.now()));
  }

  /** The config word `name` counts with (see Reconfiguration.countedWord). */
  countedWord(name: string, gossiped: number): number {
    return this.core.countedWord(name, gossiped);
  }

  /** Fetches `name`'s configuration and adopts it if newer; resolves whether it answered. */
  catchUpFrom(name: string): Promise<boolean> {
    const started = this.core.catchUpFrom(name, this.o.runtime.clock.now());
    return started ? this.await(started) : Promise.resolve(false);
  }

  /**
   * A voter leaving gracefully proposes its own removal first (one Paxos round, waited for at most
   * `maxMs`), so the voter set shrinks through a configuration like any other change. Resolves
   * whether it was removed; if not, the writable side removes it once it sees it LEFT.
   */
  leave(maxMs: number): Promise<boolean> {
    return this.propose({ leave: [this.o.self] }, maxMs);
  }

  /**
   * Proposes a change of the voter set now (admit, down or remove members) and waits at most
   * `maxMs` for it to be chosen; resolves whether it was. A round already running is let finish
   * first (it may be the one that decides our epoch). False at once when this node may not
   * propose (it is not a writable voter, a change is pending, or the change leaves no voter).
   */
  async propose(change: VoterChange, maxMs: number): Promise<boolean> {
    const { runtime } = this.o;
    const deadline = runtime.clock.now() + maxMs;
    while (this.core.busy() && runtime.clock.now() < deadline) await new Promise<void>((r) => runtime.scheduler.schedule(50, r));
    const started = this.core.propose(change, runtime.clock.now());
    if (!started) return false;
    return Promise.race([
      this.await(started),
      new Promise<boolean>((r) => runtime.scheduler.schedule(Math.max(0, deadline - runtime.clock.now()), () => r(false))),
    ]);
  }

  stop(): void {
    this.stopped = true;
    this.timer.stop();
    for (const done of this.waiting.values()) done(false);
    this.waiting.clear();
  }

  private await(started: { token: number; directives: ReconfigDirective[] }): Promise<boolean> {
    const done = new Promise<boolean>((resolve) => this.waiting.set(started.token, resolve));
    this.apply(started.directives);
    return done;
  }

  /** A call's outcome; ignored once stopped (a closed store must not see a late round). */
  private replied(id: number, bytes: Uint8Array | undefined): void {
    if (this.stopped) return;
    try {
      this.apply(this.core.reply(id, bytes, this.o.runtime.clock.now()));
    } catch (err) {
      this.o.log.warn({ err: (err as Error).message }, 'voter-set reply not handled');
    }
  }

  private apply(directives: ReconfigDirective[]): void {
    const { rpc } = this.o;
    for (const d of directives) {
      switch (d.kind) {
        case 'call':
          rpc.call(d.to, d.method, d.payload, d.timeoutMs).then(
            (bytes) => this.replied(d.id, bytes),
            () => this.replied(d.id, undefined),
          );
          break;
        case 'notify':
          rpc.notify(d.to, d.method, d.payload).catch(() => undefined);
          break;
        case 'chosen':
          this.o.onChosen(d.config, d.back);
          break;
        case 'adopted':
          this.o.onAdopted();
          break;
        case 'verified':
          this.o.onVerified(d.name);
          break;
        case 'stale-view':
          this.o.onStaleView(d.name);
          break;
        case 'wake':
          this.o.wake();
          break;
        case 'done': {
          const resolve = this.waiting.get(d.token);
          this.waiting.delete(d.token);
          resolve?.(d.ok);
          break;
        }
      }
    }
    if (!this.stopped) this.timer.arm();
  }
}
