// Where to send discovery requests. IPv4 only: IPv6 has no broadcast (it would need multicast,
// which this design does not use).
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';

export const LIMITED_BROADCAST = '255.255.255.255';

type Interfaces = NodeJS.Dict<NetworkInterfaceInfo[]>;

/**
 * Loopback cannot broadcast: `lo` has no broadcast flag, and 255.255.255.255 leaves by a real
 * interface (or fails with ENETUNREACH), never reaching 127.x sockets. So discovery from a
 * loopback address has nothing to find and returns at once instead of waiting out a timeout.
 * Nodes on loopback (`tri cluster`) use --join seeds instead.
 */
export function isLoopback(host: string): boolean {
  return /^127\./.test(host) || host === '::1' || host === 'localhost';
}

/** The directed broadcast of one IPv4 address and netmask: address OR NOT mask. */
export function directedBroadcast(address: string, netmask: string): string | undefined {
  const a = parseIpv4(address);
  const m = parseIpv4(netmask);
  if (a === undefined || m === undefined) return undefined;
  // A /31 or /32 has no broadcast address (RFC 3021).
  if (~m >>> 0 < 3) return undefined;
  return formatIpv4((a | ~m) >>> 0);
}

/**
 * The directed broadcast of the interface holding `bindHost` (every non-internal IPv4 interface
 * when bindHost is the wildcard), then the limited broadcast 255.255.255.255, without repeats.
 * `interfaces` is injectable for tests; by default os.networkInterfaces().
 */
export function broadcastAddressesFor(bindHost: string, interfaces: Interfaces = networkInterfaces()): string[] {
  const wildcard = bindHost === '0.0.0.0';
  const out: string[] = [];
  for (const infos of Object.values(interfaces)) {
    for (const info of infos ?? []) {
      if (info.family !== 'IPv4' || info.internal) continue;
      if (!wildcard && info.address !== bindHost) continue;
      const b = directedBroadcast(info.address, info.netmask);
      if (b !== undefined && !out.includes(b)) out.push(b);
    }
  }
  out.push(LIMITED_BROADCAST);
  return out;
}

function parseIpv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    n = n * 256 + Number(p);
  }
  return n;
}

function formatIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}
