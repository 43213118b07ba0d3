// What an operator needs from a node's first lines: one line saying who and where it is, which key
// it seals with, and the warnings about a configuration that is probably a mistake.
import type { Logger } from '../runtime/types.js';
import { keyId, parseKey, type Keyring } from '../security/index.js';

export interface StartupFacts {
  name: string;
  gossip: string;
  rpc: string;
  http?: string;
  profile: string;
  dataDir?: string;
  keyring?: Keyring;
  tls: boolean;
}

/** The one startup line, and a warning when nothing is durable. */
export function logStartup(logger: Logger, f: StartupFacts): void {
  const security = f.tls ? 'mutual TLS' : f.keyring ? `key ${keyId(parseKey(f.keyring.primary))}` : 'INSECURE (plaintext)';
  logger.info(
    { name: f.name, gossip: f.gossip, rpc: f.rpc, http: f.http ?? 'off', profile: f.profile, dataDir: f.dataDir ?? null, security },
    `node ${f.name} started: gossip ${f.gossip}, rpc ${f.rpc}, http ${f.http ?? 'off'}, profile ${f.profile}, data ${f.dataDir ?? '(memory only)'}, ${security}`,
  );
  if (f.dataDir === undefined) {
    logger.warn({ name: f.name }, 'running without --data: memory, identity and keyring live in this process only and are lost when it stops');
  }
}

/** The data directory's keyring wins over --key-file (rotations survive restarts); say so when they differ. */
export function reportKeyringSource(logger: Logger, saved: Keyring, given: string): void {
  const givenId = keyId(parseKey(given));
  const primaryId = keyId(parseKey(saved.primary));
  if (givenId === primaryId) return;
  const installed = saved.has(given);
  logger.warn(
    { keyFile: givenId, primary: primaryId, installed: saved.keys().map((k) => keyId(parseKey(k))) },
    `using the keyring stored in the data directory (primary ${primaryId}), not the --key-file key ${givenId}` +
      (installed ? ' (installed there as a secondary key)' : ', which that keyring does not hold: a rotation removed it, or this is another cluster\'s key'),
  );
}
