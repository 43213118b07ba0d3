// Revocation and limits of the TLS-PSK layer over real loopback sockets (127.0.2.50):
// - removing a key from the keyring closes live connections keyed with it (after a short grace,
//   so the reply to the `remove` itself gets out), on the server and on the client side; a
//   connection keyed with another key lives on; and new handshakes with the removed key fail;
// - the per-peer connection cap refuses the excess from one address and counts it.
// (Half-open connections closed by the handshake timeout: test/integration/hostile-input.test.ts.)
import net, { type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Keyring, generateKey } from '../../src/security/keyring.js';
import { REVOKED_KEY_GRACE_MS, tlsPskLayer } from '../../src/security/tls-psk.js';
import type { TlsSocketLayer } from '../../src/security/tls-layer.js';

const HOST = '127.0.2.50';
const cleanups: Array<() => void> = [];

afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

async function listen(layer: TlsSocketLayer): Promise<{ port: number; accepted: Socket[] }> {
  const accepted: Socket[] = [];
  const server: Server = layer.createServer((s) => {
    accepted.push(s);
    s.on('error', () => {});
    s.pipe(s);
  });
  await new Promise<void>((r) => server.listen(0, HOST, r));
  cleanups.push(() => {
    for (const s of accepted) s.destroy();
    server.close();
  });
  return { port: (server.address() as net.AddressInfo).port, accepted };
}

function closed(s: Socket): Promise<number> {
  const t0 = Date.now();
  return new Promise((r) => (s.destroyed ? r(0) : s.once('close', () => r(Date.now() - t0))));
}

describe('TLS-PSK revocation', () => {
  it('removing a key closes the connections it keyed, after the grace; other keys live on; new handshakes fail', async () => {
    const oldKey = generateKey();
    const newKey = generateKey();
    const serverRing = new Keyring(oldKey, [newKey]);
    const server = tlsPskLayer({ keyring: serverRing, name: 'member:server', label: 'rev' });
    const { port } = await listen(server);

    const oldClientRing = new Keyring(oldKey);
    const oldClient = tlsPskLayer({ keyring: oldClientRing, name: 'member:old', label: 'rev' });
    const newClient = tlsPskLayer({ keyring: new Keyring(newKey), name: 'member:new', label: 'rev' });
    const a = await oldClient.connect(HOST, port, 3000);
    const b = await newClient.connect(HOST, port, 3000);
    a.on('error', () => {});
    b.on('error', () => {});
    cleanups.push(() => (a.destroy(), b.destroy()));

    serverRing.use(newKey);
    const t0 = Date.now();
    serverRing.remove(oldKey);
    const waited = await Promise.race([closed(a), new Promise<number>((r) => setTimeout(() => r(-1), REVOKED_KEY_GRACE_MS + 3000))]);
    expect(waited).toBeGreaterThanOrEqual(0);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(REVOKED_KEY_GRACE_MS - 100); // replies in flight had their grace
    expect(b.destroyed).toBe(false);
    const echoed = new Promise<string>((r) => b.once('data', (d: Buffer) => r(d.toString())));
    b.write('still here');
    expect(await echoed).toBe('still here');

    await expect(oldClient.connect(HOST, port, 3000)).rejects.toThrow();
  });

  it('a client closes its own connections keyed with a key it removes', async () => {
    const k1 = generateKey();
    const k2 = generateKey();
    const server = tlsPskLayer({ keyring: new Keyring(k1, [k2]), name: 'member:server', label: 'rev' });
    const { port } = await listen(server);
    const ring = new Keyring(k1, [k2]);
    const client = tlsPskLayer({ keyring: ring, name: 'member:c', label: 'rev' });
    const s = await client.connect(HOST, port, 3000);
    s.on('error', () => {});
    cleanups.push(() => s.destroy());
    ring.use(k2);
    ring.remove(k1);
    const waited = await Promise.race([closed(s), new Promise<number>((r) => setTimeout(() => r(-1), REVOKED_KEY_GRACE_MS + 3000))]);
    expect(waited).toBeGreaterThanOrEqual(0);
  });
});

describe('TLS server limits', () => {
  it('refuses connections over the per-peer cap and counts them', async () => {
    const key = generateKey();
    const server = tlsPskLayer({ keyring: new Keyring(key), name: 'member:server', label: 'lim', limits: { maxConnectionsPerPeer: 5 } });
    const { port } = await listen(server);
    const raws: Socket[] = [];
    let closedCount = 0;
    for (let i = 0; i < 8; i++) {
      const r = net.connect({ host: HOST, port });
      r.on('error', () => {});
      r.on('close', () => closedCount++);
      raws.push(r);
    }
    cleanups.push(() => raws.forEach((r) => r.destroy()));
    for (let waited = 0; closedCount < 3 && waited < 3000; waited += 20) await new Promise((r) => setTimeout(r, 20));
    expect(closedCount).toBe(3);
    expect(server.stats.overPeerLimit).toBe(3);
    // Once some close, the address may connect again.
    for (const r of raws) r.destroy();
    await new Promise((r) => setTimeout(r, 100));
    const ok = await tlsPskLayer({ keyring: new Keyring(key), name: 'member:c', label: 'lim' }).connect(HOST, port, 3000);
    ok.destroy();
  });
});
