import { describe, expect, it } from 'vitest';
import { broadcastAddressesFor, directedBroadcast, isLoopback } from '../../src/discovery/broadcast-addresses.js';
import { discover, discoverPeers } from '../../src/discovery/discover.js';
import type { DiscoverySocket } from '../../src/discovery/discovery-socket.js';
import { createDiscoveryCrypto, createEnvelope } from '../../src/discovery/envelope.js';
import { RequestHandler } from '../../src/discovery/request-handler.js';
import type { Cancel, Scheduler } from '../../src/runtime/types.js';
import { Keyring, generateKey } from '../../src/security/keyring.js';

/** A virtual-time scheduler: run() fires timers in time order until none are left. */
function virtualScheduler(): Scheduler & { now: () => number; run: () => Promise<void> } {
  let now = 0;
  const timers: { at: number; fn: () => void; live: boolean }[] = [];
  return {
    now: () => now,
    schedule(delayMs, fn): Cancel {
      const t = { at: now + Math.max(0, delayMs), fn, live: true };
      timers.push(t);
      return () => (t.live = false);
    },
    async run() {
      for (let guard = 0; guard < 1_000; guard++) {
        await new Promise((r) => setImmediate(r)); // let discover() reach its next await
        const next = timers.filter((t) => t.live).sort((a, b) => a.at - b.at)[0];
        if (!next) return;
        next.live = false;
        now = next.at;
        next.fn();
      }
      throw new Error('virtual scheduler did not settle');
    },
  };
}

const keyring = new Keyring(generateKey());
const crypto = createDiscoveryCrypto({ keyring, label: 'prod' });

/** A fake LAN segment: every request sent reaches these responders, whose replies come straight back. */
function fakeLan(responders: { ip: string; handler: RequestHandler }[], sent: { at: number; host: string }[], clock: () => number) {
  return async (): Promise<DiscoverySocket> => {
    let onMessage: ((data: Buffer, from: string) => void) | undefined;
    return {
      send(data, _port, host) {
        sent.push({ at: clock(), host });
        for (const r of responders) {
          const res = r.handler.handle('10.213.1.3', data);
          if (res.action === 'reply') onMessage?.(res.data, r.ip);
        }
      },
      onMessage: (h) => (onMessage = h),
      close: async () => undefined,
    };
  };
}

describe('discover()', () => {
  const clock = { now: () => 0 };
  const rateLimit = { perSource: { capacity: 100, refillPerSecond: 0 }, global: { capacity: 100, refillPerSecond: 0 }, maxSources: 8 };
  const responder = (ip: string, port: number, cryptoOf = crypto): { ip: string; handler: RequestHandler } => ({
    ip,
    handler: new RequestHandler({ envelope: createEnvelope({ crypto: cryptoOf }, clock), advertise: { name: ip, host: ip, port }, clock, rateLimit }),
  });

  it('sends a bounded number of requests with backoff and returns distinct addresses, minus itself', async () => {
    const sched = virtualScheduler();
    const sent: { at: number; host: string }[] = [];
    const stranger = createDiscoveryCrypto({ keyring: new Keyring(generateKey()), label: 'prod' });
    const lan = [responder('10.213.1.1', 9999), responder('10.213.1.2', 9999), responder('10.213.1.3', 9999), responder('10.213.1.4', 9999, stranger)];
    const found: string[] = [];
    const result = discoverPeers({
      bindHost: '10.213.1.3',
      broadcastAddresses: ['10.213.255.255', '255.255.255.255'],
      crypto,
      timeoutMs: 2_000,
      attempts: 3,
      self: ['10.213.1.3:9999'],
      scheduler: sched,
      openSocket: fakeLan(lan, sent, sched.now),
      onPeer: (p) => found.push(p.name),
    });
    await sched.run();
    const peers = await result;
    expect(peers.map((p) => p.address)).toEqual(['10.213.1.1:9999', '10.213.1.2:9999']);
    expect(found).toEqual(['10.213.1.1', '10.213.1.2']);
    // 3 attempts x 2 broadcast addresses, at 0, 250 and 750 ms (gap 2000 / 2^3 doubling). Each
    // responder answered each attempt once: the second copy of a request is a replay.
    expect(sent.map((s) => s.at)).toEqual([0, 0, 250, 250, 750, 750]);
    expect(sched.now()).toBe(2_000);
  });

  it('returns [] at once on loopback, which cannot broadcast', async () => {
    let opened = false;
    const started = Date.now();
    const result = await discover({
      bindHost: '127.0.0.1',
      insecure: true,
      timeoutMs: 60_000,
      openSocket: async () => {
        opened = true;
        throw new Error('must not open a socket');
      },
    });
    expect(result).toEqual([]);
    expect(opened).toBe(false);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('rejects unbounded or missing settings', async () => {
    await expect(discover({ bindHost: '10.0.0.1', insecure: true, attempts: 1_000 })).rejects.toThrow(/attempts/);
    await expect(discover({ bindHost: '10.0.0.1', insecure: true, timeoutMs: 0 })).rejects.toThrow(/timeoutMs/);
    await expect(discover({ bindHost: '10.0.0.1' } as never)).rejects.toThrow(/--key-file/);
  });
});

describe('broadcast addresses', () => {
  const ifaces = {
    lo: [{ address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4', internal: true, mac: '', cidr: null }],
    eth0: [
      { address: '10.213.1.3', netmask: '255.255.0.0', family: 'IPv4', internal: false, mac: '', cidr: null },
      { address: 'fe80::1', netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6', internal: false, mac: '', cidr: null, scopeid: 1 },
    ],
    eth1: [{ address: '192.168.7.9', netmask: '255.255.255.0', family: 'IPv4', internal: false, mac: '', cidr: null }],
  } as unknown as Parameters<typeof broadcastAddressesFor>[1];

  it('uses the interface holding bindHost, plus the limited broadcast', () => {
    expect(broadcastAddressesFor('10.213.1.3', ifaces)).toEqual(['10.213.255.255', '255.255.255.255']);
    expect(broadcastAddressesFor('0.0.0.0', ifaces)).toEqual(['10.213.255.255', '192.168.7.255', '255.255.255.255']);
  });

  it('computes directed broadcasts and skips /31 and /32', () => {
    expect(directedBroadcast('192.168.1.77', '255.255.255.192')).toBe('192.168.1.127');
    expect(directedBroadcast('10.0.0.1', '255.255.255.255')).toBeUndefined();
    expect(directedBroadcast('10.0.0.1', '255.255.255.254')).toBeUndefined();
    expect(directedBroadcast('nonsense', '255.0.0.0')).toBeUndefined();
  });

  it('knows loopback', () => {
    expect(['127.0.0.1', '127.0.0.2', '::1', 'localhost'].every(isLoopback)).toBe(true);
    expect(isLoopback('10.213.1.1')).toBe(false);
  });
});
