// The real UDP socket of a discoverer, kept thin so the run logic (discover.ts) can be tested
// with a fake. Bound to the node's own IP on an ephemeral port: requests leave from that
// address, so replies (unicast to the real source) come back to exactly this socket.
import dgram from 'node:dgram';
import { TransportError } from '../errors.js';
import type { Logger } from '../runtime/types.js';

export interface DiscoverySocket {
  /** Fire-and-forget; failures (no route, EACCES) are logged, never thrown. */
  send(data: Uint8Array, port: number, host: string): void;
  /** One handler; `sourceHost` is the datagram's real source IP. */
  onMessage(handler: (data: Buffer, sourceHost: string) => void): void;
  close(): Promise<void>;
}

export async function openBroadcastSocket(bindHost: string, logger?: Logger): Promise<DiscoverySocket> {
  const socket = dgram.createSocket({ type: 'udp4' });
  socket.on('error', (err) => logger?.debug({ err }, 'discovery socket error'));
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, bindHost, () => {
      socket.off('error', reject);
      resolve();
    });
  }).catch((err: unknown) => {
    socket.close();
    throw new TransportError(`cannot bind a discovery socket on ${bindHost}: ${(err as Error).message}; give --bind an address of this machine`, {
      cause: err,
    });
  });
  // Without SO_BROADCAST the kernel refuses sends to broadcast addresses with EACCES.
  socket.setBroadcast(true);
  let closed = false;
  return {
    send(data, port, host) {
      if (closed) return;
      try {
        socket.send(data, port, host, (err) => {
          if (err) logger?.debug({ err, to: host }, 'discovery request send failed');
        });
      } catch (err) {
        logger?.debug({ err, to: host }, 'discovery request send failed');
      }
    },
    onMessage(handler) {
      socket.removeAllListeners('message');
      socket.on('message', (msg, rinfo) => {
        if (!closed) handler(msg, rinfo.address);
      });
    },
    close() {
      if (closed) return Promise.resolve();
      closed = true;
      return new Promise<void>((resolve) => socket.close(() => resolve()));
    },
  };
}
