// The cluster keyring (DESIGN.md "Security"): 32-byte keys, base64 on the outside. Packets are
// sealed with the primary key and opened with any installed key, so a key can be rotated with no
// downtime: install the new key on every node, then `use` it everywhere, then `remove` the old one.
// Errors and events name keys by their fingerprint (kdf.ts keyId), never by the key itself, so
// logs never leak key material.
import { randomBytes } from 'node:crypto';
import { ConfigError } from '../errors.js';
import { keyId } from './kdf.js';

export const KEY_BYTES = 32;

const HOW_TO_MAKE = 'make one with `tri keys generate --out cluster.key`';

/** A fresh random key, base64-encoded. */
export function generateKey(): string {
  return randomBytes(KEY_BYTES).toString('base64');
}

/** Decodes base64 text holding exactly 32 bytes; anything else is a ConfigError saying how to fix it. */
export function parseKey(text: string): Buffer {
  const trimmed = text.trim();
  // Buffer.from(..., 'base64') silently skips junk, so check the alphabet and padding first.
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(trimmed) || trimmed.length % 4 !== 0) {
    throw new ConfigError(`the cluster key is not base64: ${HOW_TO_MAKE}`);
  }
  const bytes = Buffer.from(trimmed, 'base64');
  if (bytes.length !== KEY_BYTES) {
    throw new ConfigError(
      `the cluster key decodes to ${bytes.length} bytes but must be exactly ${KEY_BYTES}: ${HOW_TO_MAKE}`,
    );
  }
  return bytes;
}

export type KeyringChange =
  | { type: 'install'; keyId: string }
  | { type: 'use'; keyId: string; previousKeyId: string }
  | { type: 'remove'; keyId: string };

/** The persisted shape (what `toJSON` returns and `fromJSON` accepts). */
export interface KeyringJSON {
  primary: string;
  keys: string[];
}

function toBytes(key: string | Uint8Array): Buffer {
  if (typeof key === 'string') return parseKey(key);
  if (key.length !== KEY_BYTES) {
    throw new ConfigError(`a cluster key must be exactly ${KEY_BYTES} bytes, got ${key.length}: ${HOW_TO_MAKE}`);
  }
  return Buffer.from(key);
}

export class Keyring {
  /** Installed keys, primary first. Replaced (never mutated) on change, so readers may hold it. */
  #keys: readonly Buffer[];
  #generation = 0;
  readonly #listeners = new Set<(change: KeyringChange) => void>();

  constructor(primary: string | Uint8Array, others: Iterable<string | Uint8Array> = []) {
    const first = toBytes(primary);
    const keys = [first];
    for (const k of others) {
      const b = toBytes(k);
      if (!keys.some((x) => x.equals(b))) keys.push(b);
    }
    this.#keys = keys;
  }

  /** The key new packets and new connections use (base64). */
  get primary(): string {
    return this.#keys[0]!.toString('base64');
  }

  /** All installed keys (base64), primary first. */
  keys(): string[] {
    return this.#keys.map((k) => k.toString('base64'));
  }

  /** Installed keys as bytes, primary first. For the crypto modules; do not mutate. */
  rawKeys(): readonly Buffer[] {
    return this.#keys;
  }

  /** Bumped on every change, so derived-key caches know when to rebuild. */
  get generation(): number {
    return this.#generation;
  }

  has(key: string | Uint8Array): boolean {
    return this.#indexOf(toBytes(key)) >= 0;
  }

  /** Adds a key that will be accepted on receipt. Returns false if it was already installed. */
  install(key: string | Uint8Array): boolean {
    const b = toBytes(key);
    if (this.#indexOf(b) >= 0) return false;
    this.#keys = [...this.#keys, b];
    this.#changed({ type: 'install', keyId: keyId(b) });
    return true;
  }

  /** Makes an installed key the primary. Install it on every node first, so they can all open it. */
  use(key: string | Uint8Array): void {
    const b = toBytes(key);
    const i = this.#indexOf(b);
    if (i < 0) {
      throw new ConfigError(
        `key ${keyId(b)} is not installed, so it cannot become the primary: run \`tri keys install KEY\` on every node first`,
      );
    }
    if (i === 0) return;
    const previous = this.#keys[0]!;
    this.#keys = [b, ...this.#keys.filter((_, j) => j !== i)];
    this.#changed({ type: 'use', keyId: keyId(b), previousKeyId: keyId(previous) });
  }

  /** Uninstalls a key. Refuses the primary. Returns false if the key was not installed. */
  remove(key: string | Uint8Array): boolean {
    const b = toBytes(key);
    const i = this.#indexOf(b);
    if (i === 0) {
      throw new ConfigError(
        `key ${keyId(b)} is the primary key and cannot be removed: \`tri keys use\` another installed key first`,
      );
    }
    if (i < 0) return false;
    this.#keys = this.#keys.filter((_, j) => j !== i);
    this.#changed({ type: 'remove', keyId: keyId(b) });
    return true;
  }

  /** Calls `fn` after every change; returns a function that unsubscribes. */
  onChange(fn: (change: KeyringChange) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  toJSON(): KeyringJSON {
    const [primary, ...rest] = this.keys();
    return { primary: primary!, keys: [primary!, ...rest] };
  }

  /** Rebuilds a keyring from `toJSON()` output; anything else is a ConfigError. */
  static fromJSON(value: unknown): Keyring {
    const v = value as Partial<KeyringJSON> | null;
    if (
      typeof v !== 'object' ||
      v === null ||
      typeof v.primary !== 'string' ||
      !Array.isArray(v.keys) ||
      !v.keys.every((k) => typeof k === 'string')
    ) {
      throw new ConfigError('the stored keyring is not {"primary": KEY, "keys": [KEY...]}: reinstall the cluster key');
    }
    return new Keyring(v.primary, v.keys as string[]);
  }

  #indexOf(b: Buffer): number {
    return this.#keys.findIndex((k) => k.equals(b));
  }

  #changed(change: KeyringChange): void {
    this.#generation++;
    // A throwing listener must not leave the other listeners uninformed of a change that happened.
    for (const fn of [...this.#listeners]) {
      try {
        fn(change);
      } catch {
        /* listeners own their errors */
      }
    }
  }
}
