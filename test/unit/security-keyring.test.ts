import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { Keyring, generateKey, parseKey, type KeyringChange } from '../../src/security/keyring.js';
import { readKeyFile, readKeyFileSync } from '../../src/security/key-file.js';
import { keyId } from '../../src/security/kdf.js';

describe('parseKey / generateKey', () => {
  it('round-trips a generated key', () => {
    const k = generateKey();
    expect(parseKey(k).length).toBe(32);
    expect(parseKey(`  ${k}\n`).toString('base64')).toBe(k);
  });
  it('rejects wrong lengths and non-base64 with a how-to', () => {
    for (const bad of ['', 'not base64!!', Buffer.alloc(16).toString('base64'), Buffer.alloc(33).toString('base64')]) {
      expect(() => parseKey(bad)).toThrow(ConfigError);
      expect(() => parseKey(bad)).toThrow(/tri keys generate --out cluster.key/);
    }
  });
});

describe('Keyring', () => {
  it('install, use, remove with change events', () => {
    const a = generateKey();
    const b = generateKey();
    const ring = new Keyring(a);
    const events: KeyringChange[] = [];
    const off = ring.onChange((c) => events.push(c));
    expect(ring.install(b)).toBe(true);
    expect(ring.install(b)).toBe(false);
    expect(ring.keys()).toEqual([a, b]);
    ring.use(b);
    expect(ring.primary).toBe(b);
    expect(ring.keys()).toEqual([b, a]);
    expect(ring.remove(a)).toBe(true);
    expect(ring.keys()).toEqual([b]);
    expect(events.map((e) => e.type)).toEqual(['install', 'use', 'remove']);
    expect(events[0]).toEqual({ type: 'install', keyId: keyId(parseKey(b)) });
    off();
    ring.install(a);
    expect(events).toHaveLength(3);
  });

  it('refuses to remove the primary, and to use an uninstalled key', () => {
    const a = generateKey();
    const ring = new Keyring(a);
    expect(() => ring.remove(a)).toThrow(/primary key and cannot be removed/);
    expect(() => ring.use(generateKey())).toThrow(/not installed/);
    expect(ring.remove(generateKey())).toBe(false);
  });

  it('never puts key material in error messages', () => {
    const a = generateKey();
    const ring = new Keyring(a);
    try {
      ring.remove(a);
    } catch (e) {
      expect((e as Error).message).not.toContain(a);
    }
  });

  it('JSON round trip keeps keys and primary', () => {
    const ring = new Keyring(generateKey(), [generateKey(), generateKey()]);
    ring.use(ring.keys()[2]!);
    const copy = Keyring.fromJSON(JSON.parse(JSON.stringify(ring)));
    expect(copy.keys()).toEqual(ring.keys());
    expect(copy.primary).toBe(ring.primary);
    expect(() => Keyring.fromJSON({ primary: 1 })).toThrow(ConfigError);
    expect(() => Keyring.fromJSON(null)).toThrow(ConfigError);
  });
});

describe('key files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tri-keyfile-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a trimmed base64 key', async () => {
    const k = generateKey();
    const f = join(dir, 'cluster.key');
    writeFileSync(f, `${k}\n`);
    expect((await readKeyFile(f)).toString('base64')).toBe(k);
    expect(readKeyFileSync(f).toString('base64')).toBe(k);
  });

  it('explains missing files, directories and bad contents', async () => {
    await expect(readKeyFile(join(dir, 'nope.key'))).rejects.toThrow(/does not exist.*tri keys generate/);
    const sub = join(dir, 'sub');
    mkdirSync(sub);
    await expect(readKeyFile(sub)).rejects.toThrow(/directory/);
    const bad = join(dir, 'bad.key');
    writeFileSync(bad, 'hello');
    expect(() => readKeyFileSync(bad)).toThrow(ConfigError);
    expect(() => readKeyFileSync(bad)).toThrow(/bad\.key does not hold a valid key/);
  });
});
