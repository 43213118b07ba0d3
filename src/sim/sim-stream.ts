// The simulated StreamTransport: listening on a port and the connect handshake (SYN, SYN-ACK or
// refusal, each carried with link latency; silence until the timeout when the peer is
// unreachable, as TCP connect behaves). The connections themselves live in sim-connection.ts.

import { TimeoutError, TransportError } from '../errors.js';
import type { Address, StreamConnection, StreamTransport } from '../transport/types.js';
import type { SimHost } from './host.js';
import { StreamPair, type SimConnection, type StreamFabric } from './sim-connection.js';

export class SimStreamTransport implements StreamTransport {
  readonly address: Address;
  private handler: ((conn: StreamConnection) => void) | undefined;
  private closed = false;
  private readonly connections = new Set<SimConnection>();

  constructor(
    private readonly fabric: StreamFabric,
    readonly host: SimHost,
    readonly port: number,
  ) {
    this.address = `${host.ip}:${port}`;
    this.generation = host.generation;
  }

  readonly generation: number;

  get alive(): boolean {
    return !this.closed && this.host.up && this.host.generation === this.generation;
  }

  onConnection(handler: (conn: StreamConnection) => void): void {
    this.handler = handler;
  }

  connect(to: Address, timeoutMs = this.fabric.connectTimeoutMs): Promise<StreamConnection> {
    if (!this.alive) return Promise.reject(new TransportError(`cannot connect from ${this.address}: this transport is closed`));
    const fabric = this.fabric;
    const target = fabric.hostOf(to);
    const self = this.host;
    self.stats.connectionsOpened++;
    const localAddress = `${self.ip}:${self.ephemeralPort()}`;
    return new Promise<StreamConnection>((resolve, reject) => {
      let done = false;
      const timer = fabric.world.schedule(timeoutMs, () => {
        if (done) return;
        done = true;
        reject(new TimeoutError(`connect to ${to} timed out after ${timeoutMs} ms: the host is down or unreachable; check the address and the network`));
      });
      const fail = (err: Error): void => {
        if (done) return;
        done = true;
        timer();
        reject(err);
      };
      if (target === undefined) return; // no such host: like a black hole, only the timeout answers
      // SYN: evaluated when it reaches the target host.
      fabric.carry(self, target.host, () => {
        if (done) return;
        const listener = target.host.streamPorts.get(target.port);
        if (!(listener instanceof SimStreamTransport) || !listener.alive || listener.handler === undefined) {
          fabric.carry(target.host, self, () => fail(new TransportError(`connection to ${to} refused: nothing listens there; is the node running?`)));
          return;
        }
        const pair = new StreamPair(fabric, self, localAddress, target.host, to);
        listener.accept(pair.server);
        // SYN-ACK back to the client.
        fabric.carry(target.host, self, () => {
          if (done || !this.alive) {
            pair.fail(new TransportError(`connection from ${localAddress} abandoned: the client gave up`));
            return;
          }
          done = true;
          timer();
          this.track(pair.client);
          resolve(pair.client);
        });
      });
    });
  }

  private accept(conn: SimConnection): void {
    this.host.stats.connectionsAccepted++;
    this.track(conn);
    this.handler!(conn);
  }

  private track(conn: SimConnection): void {
    if (!conn.open) return;
    this.connections.add(conn);
    conn.release = () => this.connections.delete(conn);
  }

  /** Frees the port and closes every connection this transport made or accepted. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    this.handler = undefined;
    if (this.host.streamPorts.get(this.port) === this) this.host.streamPorts.delete(this.port);
    for (const conn of [...this.connections]) conn.close();
    this.connections.clear();
    return Promise.resolve();
  }

  /** Host crash: the port is freed with no goodbye; the network resets the connections. */
  kill(): void {
    this.closed = true;
    this.handler = undefined;
    if (this.host.streamPorts.get(this.port) === this) this.host.streamPorts.delete(this.port);
    this.connections.clear();
  }
}
