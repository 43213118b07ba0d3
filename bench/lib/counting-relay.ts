// A TCP relay that forwards to one target and counts the bytes each way: the benchmarks' view of
// what really crosses the wire (TLS records included), used by the sync harness and crypto-cost.
import net from 'node:net';

export interface Relay {
  /** host:port to dial instead of the target. */
  address: string;
  port: number;
  /** Bytes from the dialling side to the listening side, and back. */
  c2s: number;
  s2c: number;
  close(): Promise<void>;
}

/** A TCP relay on `bind` that forwards to `target` and counts bytes each way. */
export async function countingRelay(bind: string, target: { host: string; port: number }): Promise<Relay> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((inbound) => {
    const outbound = net.connect({ host: target.host, port: target.port, localAddress: bind });
    sockets.add(inbound).add(outbound);
    inbound.setNoDelay(true);
    outbound.setNoDelay(true);
    inbound.on('data', (d: Buffer) => {
      relay.c2s += d.length;
      outbound.write(d);
    });
    outbound.on('data', (d: Buffer) => {
      relay.s2c += d.length;
      inbound.write(d);
    });
    for (const [x, y] of [[inbound, outbound], [outbound, inbound]] as const) {
      x.on('error', () => y.destroy());
      x.on('close', () => {
        y.destroy();
        sockets.delete(x);
      });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, bind, () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  const relay: Relay = {
    address: `${bind}:${port}`,
    port,
    c2s: 0,
    s2c: 0,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  return relay;
}
