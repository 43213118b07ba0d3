// What a test sees of one emulated machine on the LAN.
import type { HostFirewall } from './firewall.js';

export interface Host {
  /** Short label given by the test ("a", "n1"), or h<index>. */
  readonly label: string;
  /** 1-based position on the LAN; also the last octets of the address. */
  readonly index: number;
  /** Network namespace that is this host. */
  readonly netns: string;
  /** IPv4 address on the LAN (10.213.X.Y, prefix /16). */
  readonly address: string;
  /** Interface name inside the host namespace. */
  readonly ifname: string;
  /** Peer end of the veth pair, inside the LAN namespace. */
  readonly lanPort: string;
  /** @internal iptables state of this host. */
  readonly firewall: HostFirewall;
}

/** Subnet shared by every host; it only exists inside the harness's namespaces. */
export const LAN_PREFIX_LEN = 16;
export const LAN_BROADCAST = '10.213.255.255';

/**
 * Host i gets 10.213.(i / 250 + 1).(i % 250 + 1): never .0 or .255, room for 12,000 hosts. With
 * TRI_NETNS_SUBNET=S (1-254) every host is 10.213.S.i instead (at most 254 hosts), for a machine
 * where only that /24 is one's own to use.
 */
export function hostAddress(index: number): string {
  const subnet = Number(process.env.TRI_NETNS_SUBNET ?? '');
  if (Number.isInteger(subnet) && subnet >= 1 && subnet <= 254) {
    if (index < 1 || index > 254) throw new Error(`with TRI_NETNS_SUBNET a LAN holds hosts 1-254, not ${index}`);
    return `10.213.${subnet}.${index}`;
  }
  const zero = index - 1;
  return `10.213.${Math.floor(zero / 250) + 1}.${(zero % 250) + 1}`;
}
