// One simulated machine: its address, whether it is up, crashed or frozen, what it has bound,
// what it has counted. The network (network.ts) owns the rules; this file only holds the state.


/** A bound packet port, as the host and network use it (sim-packet.ts implements it). */
export interface PacketPort {
  deliver(from: string, data: Uint8Array): boolean;
  kill(): void;
}

/** A listening stream port, as the host and network use it (sim-stream.ts implements it). */
export interface StreamPort {
  readonly alive: boolean;
  kill(): void;
}

/** Counters per host. Bytes are payload bytes; stream frames also count their 4-byte length prefix. */
export interface HostStats {
  packetsSent: number;
  bytesSent: number;
  packetsReceived: number;
  bytesReceived: number;
  /** Packets this host sent that never arrived (loss, partition, nobody listening, crash). */
  packetsDropped: number;
  framesSent: number;
  streamBytesSent: number;
  framesReceived: number;
  streamBytesReceived: number;
  connectionsOpened: number;
  connectionsAccepted: number;
}

export function emptyStats(): HostStats {
  return {
    packetsSent: 0,
    bytesSent: 0,
    packetsReceived: 0,
    bytesReceived: 0,
    packetsDropped: 0,
    framesSent: 0,
    streamBytesSent: 0,
    framesReceived: 0,
    streamBytesReceived: 0,
    connectionsOpened: 0,
    connectionsAccepted: 0,
  };
}

export class SimHost {
  /** False between crash() and restart(). */
  up = true;
  /** True between pause() and resume(): nothing in, nothing out, timers held. */
  paused = false;
  /**
   * Bumped on every crash. Transports, connections and timers remember the generation they were
   * made in, so nothing from before a crash can act after a restart.
   */
  generation = 0;
  readonly packetPorts = new Map<number, PacketPort>();
  readonly streamPorts = new Map<number, StreamPort>();
  /** Work frozen by pause(), run in order by resume(). */
  held: Array<() => void> = [];
  readonly stats: HostStats = emptyStats();
  private nextEphemeral = 40000;

  constructor(readonly ip: string) {}

  /** A free port for port-0 binds and outgoing connections, like the OS ephemeral range. */
  ephemeralPort(): number {
    // Bounded: at most one pass over the range before giving up.
    for (let tries = 0; tries < 25000; tries++) {
      const port = this.nextEphemeral;
      this.nextEphemeral = port >= 64999 ? 40000 : port + 1;
      if (!this.packetPorts.has(port) && !this.streamPorts.has(port)) return port;
    }
    throw new Error(`simulated host ${this.ip} has no free ephemeral port`);
  }
}
