// Real TLS handshakes over loopback through the SocketLayer implementations: TLS-PSK keyed by the
// cluster keyring, and mutual TLS with throwaway certificates made by `openssl` in a temp dir.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net, { type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthError, ConfigError, TimeoutError, TransportError } from '../../src/errors.js';
import { Keyring, generateKey } from '../../src/security/keyring.js';
import { PSK_CIPHERS, tlsPskLayer } from '../../src/security/tls-psk.js';
import { mutualTlsLayer } from '../../src/security/tls-mtls.js';
import type { HandshakeDrop, TlsSocketLayer } from '../../src/security/tls-layer.js';

const HOST = '127.0.0.1';

interface Echo {
  port: number;
  identities: Array<string | undefined>;
  close(): Promise<void>;
}

/** An echo server over `layer` that records each accepted peer's identity. */
async function echo(layer: TlsSocketLayer): Promise<Echo> {
  const identities: Array<string | undefined> = [];
  const sockets = new Set<Socket>();
  const server: Server = layer.createServer((s) => {
    identities.push(layer.peerIdentity(s));
    sockets.add(s);
    s.on('error', () => {});
    s.pipe(s);
  });
  await new Promise<void>((r) => server.listen(0, HOST, r));
  return {
    port: (server.address() as net.AddressInfo).port,
    identities,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** Connects, sends a line, expects it back. */
async function roundTrip(layer: TlsSocketLayer, port: number): Promise<Socket> {
  const s = await layer.connect(HOST, port, 3000);
  s.on('error', () => {});
  const got = new Promise<string>((r) => s.once('data', (d: Buffer) => r(d.toString())));
  s.write('ping');
  expect(await got).toBe('ping');
  return s;
}

/** Waits (bounded) until `cond` holds; server-side drops are counted asynchronously. */
async function until(cond: () => boolean, ms = 3000): Promise<void> {
  for (let waited = 0; !cond() && waited < ms; waited += 20) await new Promise((r) => setTimeout(r, 20));
  expect(cond()).toBe(true);
}

const psk = (ring: Keyring, name: string, label = 'test', drops?: HandshakeDrop[]) =>
  tlsPskLayer({ keyring: ring, name, label, onDrop: (d) => drops?.push(d) });

describe('TLS-PSK layer', () => {
  it('handshakes on TLS 1.3 with the same key and exposes the client name', async () => {
    const key = generateKey();
    const server = psk(new Keyring(key), 'member:srv');
    const client = psk(new Keyring(key), 'member:n1');
    const e = await echo(server);
    const s = (await roundTrip(client, e.port)) as TLSSocket;
    expect(s.getProtocol()).toBe('TLSv1.3');
    expect(PSK_CIPHERS.split(':')).toContain(s.getCipher().standardName);
    expect(s.getEphemeralKeyInfo()).toMatchObject({ type: 'ECDH' }); // forward secrecy (psk_dhe_ke)
    expect(e.identities).toEqual(['member:n1']);
    expect(client.peerIdentity(s)).toBeUndefined();
    s.destroy();
    await e.close();
  });

  it('fails on both ends with a different key, counting the drop', async () => {
    const serverDrops: HandshakeDrop[] = [];
    const clientDrops: HandshakeDrop[] = [];
    const server = psk(new Keyring(generateKey()), 'member:srv', 'test', serverDrops);
    const client = psk(new Keyring(generateKey()), 'member:n1', 'test', clientDrops);
    const e = await echo(server);
    await expect(client.connect(HOST, e.port, 3000)).rejects.toBeInstanceOf(AuthError);
    await until(() => server.stats.auth === 1);
    expect(serverDrops[0]!.error).toBeInstanceOf(AuthError);
    expect(clientDrops.map((d) => [d.side, d.reason])).toEqual([['client', 'auth']]);
    expect(e.identities).toEqual([]);
    await e.close();
  });

  it('fails when the cluster label differs (the PSK is salted with it)', async () => {
    const key = generateKey();
    const server = psk(new Keyring(key), 'member:srv', 'blue');
    const e = await echo(server);
    await expect(psk(new Keyring(key), 'member:n1', 'green').connect(HOST, e.port, 3000)).rejects.toBeInstanceOf(AuthError);
    await e.close();
  });

  it('a server with two installed keys accepts clients using either', async () => {
    const k1 = generateKey();
    const k2 = generateKey();
    const server = psk(new Keyring(k1, [k2]), 'member:srv');
    const e = await echo(server);
    (await roundTrip(psk(new Keyring(k1), 'member:a'), e.port)).destroy();
    (await roundTrip(psk(new Keyring(k2), 'member:b'), e.port)).destroy();
    expect(e.identities).toEqual(['member:a', 'member:b']);
    await e.close();
  });

  it('rotation install -> use -> remove keeps connections working, then cuts off the old key', async () => {
    const oldKey = generateKey();
    const newKey = generateKey();
    const serverRing = new Keyring(oldKey);
    const clientRing = new Keyring(oldKey);
    const e = await echo(psk(serverRing, 'member:srv'));
    const client = psk(clientRing, 'member:n1');
    const straggler = psk(new Keyring(oldKey), 'member:late');
    serverRing.install(newKey);
    clientRing.install(newKey);
    clientRing.use(newKey); // the client moves first; the server still has the new key installed
    (await roundTrip(client, e.port)).destroy();
    serverRing.use(newKey);
    (await roundTrip(straggler, e.port)).destroy(); // old key still installed on the server
    serverRing.remove(oldKey);
    await expect(straggler.connect(HOST, e.port, 3000)).rejects.toBeInstanceOf(AuthError);
    (await roundTrip(client, e.port)).destroy();
    await e.close();
  });

  it('survives a plaintext client and reports a refused port as TransportError', async () => {
    const server = psk(new Keyring(generateKey()), 'member:srv');
    const e = await echo(server);
    const raw = net.connect(e.port, HOST);
    raw.on('error', () => {});
    raw.write('GET / HTTP/1.0\r\n\r\n');
    await until(() => server.stats.auth + server.stats.transport === 1);
    raw.destroy();
    await e.close();
    const err = await psk(new Keyring(generateKey()), 'member:n1').connect(HOST, e.port, 3000).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(TransportError);
    expect(err).not.toBeInstanceOf(AuthError);
  });
});

describe('TLS layer failure modes', () => {
  it('times out against a server that never handshakes', async () => {
    const silent = net.createServer((s) => s.on('error', () => {}));
    await new Promise<void>((r) => silent.listen(0, HOST, r));
    const port = (silent.address() as net.AddressInfo).port;
    const client = psk(new Keyring(generateKey()), 'member:n1');
    const t0 = Date.now();
    await expect(client.connect(HOST, port, 300)).rejects.toBeInstanceOf(TimeoutError);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(client.stats.transport).toBe(1);
    silent.close();
  });

  it('refuses unusable certificate material at construction', () => {
    expect(() => mutualTlsLayer({ cert: 'nope', key: 'nope', ca: 'nope' })).toThrow(ConfigError);
  });

  it('refuses a name that cannot be a PSK identity', () => {
    expect(() => psk(new Keyring(generateKey()), '')).toThrow(ConfigError);
    expect(() => psk(new Keyring(generateKey()), 'x'.repeat(200))).toThrow(ConfigError);
  });
});

const hasOpenssl = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe.skipIf(!hasOpenssl)('mutual TLS layer', () => {
  let dir = '';
  const pem = (name: string) => readFileSync(join(dir, name));
  const layer = (who: string, ca = 'ca', drops?: HandshakeDrop[]) =>
    mutualTlsLayer({ cert: pem(`${who}.crt`), key: pem(`${who}.key`), ca: pem(`${ca}.crt`), onDrop: (d) => drops?.push(d) });

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tri-certs-'));
    const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
    const ca = (name: string) => run('req', '-x509', ...ec, '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=${name}`);
    const leaf = (cn: string, file: string, signer: string) => {
      run('req', ...ec, '-keyout', `${file}.key`, '-out', `${file}.csr`, '-subj', `/CN=${cn}`);
      writeFileSync(join(dir, 'leaf.ext'), 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\n');
      run('x509', '-req', '-in', `${file}.csr`, '-CA', `${signer}.crt`, '-CAkey', `${signer}.key`, '-CAcreateserial',
        '-out', `${file}.crt`, '-days', '2', '-extfile', 'leaf.ext');
    };
    ca('ca');
    ca('otherca');
    leaf('member:a', 'a', 'ca');
    leaf('member:b', 'b', 'ca');
    leaf('member:rogue', 'rogue', 'otherca');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('handshakes and exposes each side’s certificate CN', async () => {
    const server = layer('a');
    const client = layer('b');
    const e = await echo(server);
    const s = await roundTrip(client, e.port);
    expect(e.identities).toEqual(['member:b']);
    expect(client.peerIdentity(s)).toBe('member:a');
    s.destroy();
    await e.close();
  });

  it('rejects a client whose certificate another CA signed, on both ends', async () => {
    const serverDrops: HandshakeDrop[] = [];
    const server = layer('a', 'ca', serverDrops);
    const e = await echo(server);
    // The rogue trusts our CA (so it would accept us), but its own certificate is not ours.
    const rogue = mutualTlsLayer({ cert: pem('rogue.crt'), key: pem('rogue.key'), ca: pem('ca.crt') });
    await expect(rogue.connect(HOST, e.port, 3000)).rejects.toBeInstanceOf(AuthError);
    await until(() => server.stats.auth === 1);
    expect(serverDrops[0]!.error.message).toMatch(/failed authentication/);
    expect(e.identities).toEqual([]);
    await e.close();
  });

  it('a client rejects a server whose certificate another CA signed', async () => {
    const rogueServer = mutualTlsLayer({ cert: pem('rogue.crt'), key: pem('rogue.key'), ca: pem('ca.crt') });
    const e = await echo(rogueServer);
    const client = layer('b');
    await expect(client.connect(HOST, e.port, 3000)).rejects.toBeInstanceOf(AuthError);
    expect(client.stats.auth).toBe(1);
    await e.close();
  });
});
