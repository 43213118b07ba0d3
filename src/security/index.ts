// What the rest of the node uses from src/security/ (not re-exported from the public API).
export { Keyring, generateKey, parseKey, KEY_BYTES, type KeyringChange, type KeyringJSON } from './keyring.js';
export { readKeyFile, readKeyFileSync } from './key-file.js';
export { keyId } from './kdf.js';
export { PacketCrypto, SEAL_OVERHEAD, type OpenResult, type OpenedPacket, type PacketHeader } from './packet-crypto.js';
export { ReplayWindow, SendSequence, type ReplayVerdict } from './replay-window.js';
export {
  securePackets,
  type DropReason,
  type PacketDrop,
  type SecurePacketsOptions,
  type SecurePacketTransport,
} from './secure-packet-transport.js';
export { tlsPskLayer, PSK_CIPHERS, type PskLayerOptions } from './tls-psk.js';
export { mutualTlsLayer, MTLS_CIPHERS, type MtlsLayerOptions } from './tls-mtls.js';
export { DEFAULT_MAX_CONNECTIONS_PER_PEER, type HandshakeDrop, type TlsLimits, type TlsSocketLayer, type TlsStats } from './tls-layer.js';
export { insecureWarning, type InsecureWarning } from './plaintext-warning.js';
export { securityStatus, type SecurityStatus } from './status.js';
