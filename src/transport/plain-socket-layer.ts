// The plaintext SocketLayer: node:net with no encryption, for `--insecure` clusters and tests.
// The TLS layer (src/security/) implements the same interface, so tcp.ts never knows which it has.

import * as net from 'node:net';
import { TimeoutError, TransportError } from '../errors.js';
import type { SocketLayer } from './types.js';

export interface PlainSocketLayerOptions {
  /**
   * Source IP for outgoing connections. On loopback every node has its own 127.0.0.x address;
   * binding the source to it makes peers see the right host instead of 127.0.0.1.
   */
  localAddress?: string;
}

export function createPlainSocketLayer(options: PlainSocketLayerOptions = {}): SocketLayer {
  return {
    createServer(onSocket) {
      // Plain TCP is ready as soon as it is accepted; there is no handshake to wait for.
      return net.createServer({ noDelay: true }, onSocket);
    },

    connect(host, port, timeoutMs) {
      return new Promise<net.Socket>((resolve, reject) => {
        const socket = net.connect({ host, port, noDelay: true, ...(options.localAddress ? { localAddress: options.localAddress } : {}) });
        const timer = setTimeout(() => {
          cleanup();
          socket.destroy();
          reject(new TimeoutError(`connect to ${host}:${port} timed out after ${timeoutMs} ms: is the node up and reachable?`));
        }, timeoutMs);
        const onError = (err: Error): void => {
          cleanup();
          socket.destroy();
          reject(new TransportError(`connect to ${host}:${port} failed (${(err as NodeJS.ErrnoException).code ?? err.message}): is the node running and the address right?`, { cause: err }));
        };
        const onConnect = (): void => {
          cleanup();
          resolve(socket);
        };
        const cleanup = (): void => {
          clearTimeout(timer);
          socket.off('error', onError);
          socket.off('connect', onConnect);
        };
        socket.once('error', onError);
        socket.once('connect', onConnect);
      });
    },

    peerIdentity() {
      return undefined; // plaintext proves nothing about the peer
    },
  };
}

/** A shared plain layer with the OS choosing source addresses. */
export const plainSocketLayer: SocketLayer = createPlainSocketLayer();
