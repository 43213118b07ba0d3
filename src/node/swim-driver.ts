// Binds the sans-IO SWIM core to a world: packets in and out, its deadline on the scheduler, and
// push-pull state exchange as an RPC over the stream transport. The same driver runs on real
// sockets and in the simulator.
import type { MemberEvent, NameClash, Swim, SwimEffect } from '../../gossip/swim.js';
import { NameConflictError } from '../errors.js';
import type { Logger, Runtime } from '../runtime/types.js';
import { DeadlineTimer } from '../runtime/deadline-timer.js';
import type { PacketTransport } from '../transport/types.js';
import type { RpcEndpoint } from '../rpc/endpoint.js';
import { METHODS } from '../rpc/methods.js';

export const PUSH_PULL_METHOD = METHODS.swimPushPull;
const REFUSAL_LOG_INTERVAL_MS = 60_000;
const MAX_REFUSALS_TRACKED = 256;

export class SwimDriver {
  private readonly timer: DeadlineTimer;
  private stopped = false;
  private readonly log: Logger;
  /** Called with the source address of every packet, before it is handled. */
  onPacketFrom: ((address: string) => void) | undefined;

  constructor(
    readonly swim: Swim,
    private readonly packets: PacketTransport,
    private readonly rpc: RpcEndpoint,
    private readonly runtime: Runtime,
    private readonly onEvent: (e: MemberEvent) => void,
    private readonly pushPullTimeoutMs: number,
    /** Called after each batch of effects (the node persists incarnation growth here). */
    private readonly onApplied: () => void = () => undefined,
  ) {
    this.log = runtime.logger.child({ component: 'swim' });
    this.timer = new DeadlineTimer(runtime, () => swim.nextDeadline(), (now) => this.apply(swim.tick(now)));
  }

  start(): void {
    this.packets.onPacket((from, data) => {
      if (this.stopped) return;
      this.onPacketFrom?.(from);
      this.apply(this.swim.receive(from, data, this.runtime.clock.now()));
    });
    this.rpc.handle(PUSH_PULL_METHOD, 'member', (payload) => {
      // mergeState throws DecodeError on a bad payload and changes nothing; the RPC layer turns
      // that into an error reply.
      const merged = this.swim.mergeRequest(payload, this.runtime.clock.now());
      if ('clash' in merged) throw this.refuse(merged.clash);
      const reply = this.swim.encodeState(false);
      this.apply(merged.effects);
      return reply;
    });
    this.timer.arm();
  }

  /** When each refused sender was last logged: a node on an older binary retries its join forever. */
  private readonly refusalsLogged = new Map<string, number>();

  /** A second node under a live member's name asked to merge: log it here, and tell it why (the RPC error reply). */
  private refuse(c: NameClash): NameConflictError {
    if (this.shouldLogRefusal(`${c.claimedAt}/${c.senderIdentity}`)) this.log.error(
      { name: c.name, from: c.claimedAt, member: c.liveAt, nodeId: c.senderIdentity, memberNodeId: c.liveIdentity },
      `refused the node at ${c.claimedAt}: it calls itself "${c.name}", the name of the live member at ${c.liveAt}, but it is another node (node id ${c.senderIdentity}, not ${c.liveIdentity}: another data directory). ` +
        `A name is one node: start the node at ${c.claimedAt} with its own --name, or stop the member first (and reuse its --data directory to replace it)`,
    );
    return new NameConflictError(
      `another node named "${c.name}" is already a live member at ${c.liveAt} (node id ${c.liveIdentity}; this node is ${c.senderIdentity}, another data directory): a name is one node. ` +
        `Give this node its own --name, or stop that node first (and reuse its --data directory to replace it)`,
    );
  }

  /** At most one error line per refused sender per minute, for a bounded number of senders. */
  private shouldLogRefusal(key: string): boolean {
    const now = this.runtime.clock.now();
    const last = this.refusalsLogged.get(key);
    if (last !== undefined && now - last < REFUSAL_LOG_INTERVAL_MS) return false;
    this.refusalsLogged.delete(key);
    if (this.refusalsLogged.size >= MAX_REFUSALS_TRACKED) {
      const oldest = this.refusalsLogged.keys().next().value;
      if (oldest !== undefined) this.refusalsLogged.delete(oldest);
    }
    this.refusalsLogged.set(key, now);
    return true;
  }

  /**
   * Push-pull with one seed; resolves true when it answered and we merged its member table. A
   * seed's refusal of a join (a name clash) rejects: the node must not go on under that name.
   */
  async pushPull(to: string, join: boolean): Promise<boolean> {
    try {
      const reply = await this.rpc.call(to, PUSH_PULL_METHOD, this.swim.encodeState(join), this.pushPullTimeoutMs);
      if (this.stopped) return false;
      const now = this.runtime.clock.now();
      this.apply(this.swim.mergeState(reply, now));
      if (join) this.apply(this.swim.announce(now));
      return true;
    } catch (err) {
      if (err instanceof NameConflictError) {
        const refused = new NameConflictError(`the member at ${to} refused this node: ${err.message}`);
        this.log.error({ seed: to }, refused.message);
        if (join) throw refused;
        return false;
      }
      this.log.debug({ to, err: (err as Error).message }, 'push-pull failed');
      return false;
    }
  }

  /** Runs effects returned by any call into the core, then re-arms the deadline timer. */
  apply(effects: SwimEffect[]): void {
    for (const e of effects) {
      switch (e.type) {
        case 'send':
          this.packets.send(e.to, e.packet);
          break;
        case 'push-pull':
          void this.pushPull(e.to, e.join);
          break;
        case 'member':
          // A member declared dead or gone: give up our connection to it, which across a partition
          // would hold what we send after the heal for TCP's retransmission backoff (RpcEndpoint.reset).
          if (e.event.kind === 'dead' || e.event.kind === 'left') this.rpc.reset(e.event.member.address);
          // Back (after a partition): a connect to it begun meanwhile waits for a SYN retransmission; dial again.
          else if (e.event.kind === 'alive' || e.event.kind === 'join') this.rpc.redial(e.event.member.address);
          this.onEvent(e.event);
          break;
      }
    }
    this.onApplied();
    this.timer.arm();
  }

  stop(): void {
    this.stopped = true;
    this.timer.stop();
  }
}
