// The simulated PacketTransport: what a node's gossip layer sees in the simulator. All the
// fault rules live in the network; this object only binds a port and hands packets up.

import { OversizeError } from '../errors.js';
import { MAX_PACKET_BYTES, type Address, type PacketTransport } from '../transport/types.js';
import type { SimHost } from './host.js';

/** What the packet transport needs from the network (kept narrow to avoid an import cycle). */
export interface PacketCarrier {
  sendPacket(from: SimPacketTransport, to: Address, data: Uint8Array): void;
}

export class SimPacketTransport implements PacketTransport {
  readonly address: Address;
  private handler: ((from: Address, data: Uint8Array) => void) | undefined;
  private closed = false;

  constructor(
    private readonly carrier: PacketCarrier,
    readonly host: SimHost,
    readonly port: number,
    /** The host generation this transport was bound in; a crash makes it dead for good. */
    readonly generation: number,
  ) {
    this.address = `${host.ip}:${port}`;
  }

  /** False once closed or once its host crashed. */
  get alive(): boolean {
    return !this.closed && this.host.up && this.host.generation === this.generation;
  }

  send(to: Address, data: Uint8Array): void {
    if (data.byteLength > MAX_PACKET_BYTES) {
      throw new OversizeError(
        `packet of ${data.byteLength} bytes exceeds the ${MAX_PACKET_BYTES}-byte limit: split the message or send it over a stream`,
      );
    }
    if (!this.alive) return; // like UDP on a closed socket: silently nothing
    this.carrier.sendPacket(this, to, data);
  }

  onPacket(handler: (from: Address, data: Uint8Array) => void): void {
    this.handler = handler;
  }

  /** Called by the network when a packet arrives; returns whether anyone took it. */
  deliver(from: Address, data: Uint8Array): boolean {
    if (!this.alive || this.handler === undefined) return false;
    this.handler(from, data);
    return true;
  }

  /** Forgets the handler and frees the port; used by close() and by a host crash. */
  kill(): void {
    if (this.closed) return;
    this.closed = true;
    this.handler = undefined;
    if (this.host.packetPorts.get(this.port) === this) this.host.packetPorts.delete(this.port);
  }

  close(): Promise<void> {
    this.kill();
    return Promise.resolve();
  }
}
