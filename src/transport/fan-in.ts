// One StreamTransport over several listeners. A node accepts streams on its gossip port (seeds are
// known only by that address, so push-pull must work there, as in memberlist) and on its RPC port
// (client tools); both feed the same RPC endpoint. Outgoing connections use the first transport.
import type { Address, StreamConnection, StreamTransport } from './types.js';

export function fanInStreams(primary: StreamTransport, ...extra: StreamTransport[]): StreamTransport {
  const all = [primary, ...extra];
  return {
    get address(): Address {
      return primary.address;
    },
    connect: (to: Address, timeoutMs?: number) => primary.connect(to, timeoutMs),
    onConnection(handler: (conn: StreamConnection) => void): void {
      for (const t of all) t.onConnection(handler);
    },
    async close(): Promise<void> {
      await Promise.all(all.map((t) => t.close()));
    },
  };
}
