// The security counters a node shows in /status (field "security"): gossip packets dropped by
// reason (wrong key, replay, malformed, oversize) and failed TLS handshakes, so an operator can
// see a node with another key knocking, or a rotation step that left someone behind.
import type { SecurePacketTransport } from './secure-packet-transport.js';
import type { TlsSocketLayer } from './tls-layer.js';
import type { Keyring } from './keyring.js';
import { keyId } from './kdf.js';

export interface SecurityStatus {
  encrypted: boolean;
  /** Gossip packets dropped, by reason; `total` sums them. */
  packetDrops: { auth: number; replay: number; malformed: number; oversize: number; total: number };
  /** TLS handshakes that failed on credentials (auth) or otherwise (transport). */
  tlsHandshakeFailures: { auth: number; transport: number };
  /** Inbound connections refused by the per-peer connection cap. */
  connectionsOverPeerLimit: number;
  /** Key fingerprints, primary first (never the keys). */
  keys: string[];
}

export function securityStatus(packets: SecurePacketTransport | undefined, layer: Partial<TlsSocketLayer> | undefined, keyring: Keyring | undefined): () => SecurityStatus {
  return () => {
    const d = packets?.drops ?? { auth: 0, replay: 0, malformed: 0, oversize: 0 };
    return {
      encrypted: packets !== undefined,
      packetDrops: { ...d, total: d.auth + d.replay + d.malformed + d.oversize },
      tlsHandshakeFailures: { auth: layer?.stats?.auth ?? 0, transport: layer?.stats?.transport ?? 0 },
      connectionsOverPeerLimit: layer?.stats?.overPeerLimit ?? 0,
      keys: keyring ? keyring.rawKeys().map((k) => keyId(k)) : [],
    };
  };
}
