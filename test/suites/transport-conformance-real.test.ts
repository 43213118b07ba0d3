// The conformance suite on real loopback sockets: UDP + plain TCP, each endpoint on its own
// 127.0.0.x address with OS-chosen ports, so source addresses are really checked.

import * as net from 'node:net';
import { createPlainSocketLayer } from '../../src/transport/plain-socket-layer.js';
import { createTcpTransport } from '../../src/transport/tcp.js';
import { createUdpTransport } from '../../src/transport/udp.js';
import { formatAddress } from '../../src/transport/address.js';
import type { PacketTransport, StreamTransport } from '../../src/transport/types.js';
import { transportConformance, type TransportHarness } from './transport-conformance.js';

let nextHost = 10;
function loopbackHost(): string {
  nextHost = nextHost >= 250 ? 10 : nextHost + 1;
  return `127.0.0.${nextHost}`;
}

async function realHarness(): Promise<TransportHarness> {
  const open: Array<PacketTransport | StreamTransport> = [];
  return {
    async endpoint() {
      const host = loopbackHost();
      const packets = await createUdpTransport({ host, port: 0 });
      const streams = await createTcpTransport({ host, port: 0, layer: createPlainSocketLayer({ localAddress: host }) });
      open.push(packets, streams);
      return { packets, streams };
    },
    async deadStreamAddress() {
      // A port that was free a moment ago: nothing listens, so the OS refuses the connection.
      const host = loopbackHost();
      const probe = net.createServer();
      await new Promise<void>((resolve) => probe.listen(0, host, resolve));
      const port = (probe.address() as net.AddressInfo).port;
      await new Promise<void>((resolve) => probe.close(() => resolve()));
      return formatAddress(host, port);
    },
    async settle(promise, maxMs = 10_000) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`still pending after ${maxMs} ms`)), maxMs);
      });
      try {
        return await Promise.race([promise, timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
    async until(predicate, maxMs = 10_000) {
      const deadline = performance.now() + maxMs;
      while (!predicate()) {
        if (performance.now() > deadline) return false;
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      return true;
    },
    async teardown() {
      await Promise.all(open.map((t) => t.close()));
    },
  };
}

transportConformance('real UDP + TCP on loopback', realHarness);
