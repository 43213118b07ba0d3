// Key separation: the operator's 32-byte cluster key is never used directly. Each purpose gets
// its own HKDF-SHA256 subkey, so a weakness in one use (for example a GCM nonce collision in
// gossip) cannot spill into another (the TLS pre-shared key), and a key's public fingerprint
// reveals nothing about either.
import { hkdfSync } from 'node:crypto';

const INFO_PACKETS = 'trinity-cluster/v1/gossip-aes-256-gcm';
const INFO_PSK = 'trinity-cluster/v1/tls-psk';
const INFO_KEY_ID = 'trinity-cluster/v1/key-id';

function hkdf(key: Uint8Array, salt: string, info: string, length: number): Buffer {
  return Buffer.from(hkdfSync('sha256', key, salt, info, length));
}

/** The AES-256-GCM key that seals gossip packets. The cluster label is bound in the AAD instead. */
export function packetKey(key: Uint8Array): Buffer {
  return hkdf(key, '', INFO_PACKETS, 32);
}

/**
 * The TLS pre-shared key. Salted with the cluster label so two clusters that (wrongly) share a
 * key still cannot open streams to each other.
 */
export function pskKey(key: Uint8Array, label: string): Buffer {
  return hkdf(key, label, INFO_PSK, 32);
}

/**
 * A short public name for a key (16 hex chars): safe to log, show in `tri keys list` and send in
 * a TLS-PSK identity so the server knows which installed key the client used.
 */
export function keyId(key: Uint8Array): string {
  return hkdf(key, '', INFO_KEY_ID, 8).toString('hex');
}
