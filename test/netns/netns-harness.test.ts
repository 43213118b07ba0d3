// Checks the namespace harness itself: reachability, broadcast, partitions (both methods),
// heal, packet loss and complete cleanup. Skips loudly where the platform lacks netns or root.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  canUseNetns,
  createLan,
  LAN_BROADCAST,
  listNamespaces,
  sendUdp,
  startUdpEcho,
  startUdpListener,
  sweepStale,
  udpPing,
  pollUntil,
  type Host,
  type Lan,
} from './lib/index.js';

const support = await canUseNetns();
if (!support.ok) console.warn(`SKIPPING netns harness tests: ${support.reason}`);

const ECHO_PORT = 7000;
const BROADCAST_PORT = 9999;

describe.skipIf(!support.ok)('netns harness', () => {
  let lan: Lan;
  let a: Host, b: Host, c: Host;

  beforeAll(async () => {
    await sweepStale();
    lan = await createLan(3, ['a', 'b', 'c']);
    [a, b, c] = lan.hosts as [Host, Host, Host];
    for (const h of lan.hosts) await startUdpEcho(lan, h, ECHO_PORT);
  });

  afterAll(async () => {
    await lan?.destroy();
  });

  /** Which ordered pairs can exchange a UDP echo right now, as "a>b" strings. */
  async function reachablePairs(): Promise<string[]> {
    const pairs: string[] = [];
    for (const from of lan.hosts) {
      for (const to of lan.hosts) {
        if (from === to) continue;
        if ((await udpPing(lan, from, to.address, ECHO_PORT, 3, 200)) > 0) pairs.push(`${from.label}>${to.label}`);
      }
    }
    return pairs;
  }
  const ALL = ['a>b', 'a>c', 'b>a', 'b>c', 'c>a', 'c>b'];

  it('gives every host its own namespace and address', () => {
    expect(new Set(lan.hosts.map((h) => h.netns)).size).toBe(3);
    expect(lan.hosts.map((h) => h.address)).toEqual(['10.213.1.1', '10.213.1.2', '10.213.1.3']);
  });

  it('lets all three hosts reach each other', async () => {
    expect(await reachablePairs()).toEqual(ALL);
  });

  it.each([LAN_BROADCAST, '255.255.255.255'])('delivers a UDP broadcast to %s on port 9999 to the other hosts', async (addr) => {
    const listeners = [await startUdpListener(lan, b, BROADCAST_PORT), await startUdpListener(lan, c, BROADCAST_PORT)];
    try {
      await sendUdp(lan, a, addr, BROADCAST_PORT, `hello-${addr}`);
      const arrived = await pollUntil(() => listeners.every((l) => l.messages.length > 0), 3_000);
      expect(arrived).toBe(true);
      for (const l of listeners) expect(l.messages[0]).toEqual({ from: a.address, text: `hello-${addr}` });
    } finally {
      for (const l of listeners) l.stop();
    }
  });

  it.each(['bridge', 'iptables'] as const)('a 2+1 partition by %s blocks traffic across, not within; heal restores', async (method) => {
    await lan.partition([[a, b], [c]], { method });
    try {
      expect(await reachablePairs()).toEqual(['a>b', 'b>a']);
      // Broadcast obeys the partition too: discovery must not leak across it.
      const listeners = [await startUdpListener(lan, b, BROADCAST_PORT), await startUdpListener(lan, c, BROADCAST_PORT)];
      try {
        await sendUdp(lan, a, LAN_BROADCAST, BROADCAST_PORT, 'split');
        await pollUntil(() => (listeners[0]?.messages.length ?? 0) > 0, 3_000);
        await new Promise((r) => setTimeout(r, 200));
        expect(listeners.map((l) => l.messages.length)).toEqual([1, 0]);
      } finally {
        for (const l of listeners) l.stop();
      }
    } finally {
      await lan.heal();
    }
    expect(await reachablePairs()).toEqual(ALL);
  });

  it('drops a random share of packets with iptables statistic loss', async () => {
    await lan.setLoss(c, 0.5, 'in');
    try {
      const replies = await udpPing(lan, a, c.address, ECHO_PORT, 200, 300);
      // Binomial(200, 0.5): outside 60..140 has probability below 1e-8.
      expect(replies).toBeGreaterThan(60);
      expect(replies).toBeLessThan(140);
    } finally {
      await lan.setLoss(c, 0);
    }
    expect(await udpPing(lan, a, c.address, ECHO_PORT, 50, 300)).toBe(50);
  });

  it('sweepStale() removes namespaces of dead processes and keeps those of live ones', async () => {
    // A pid that surely is dead: a child that has already exited.
    const { spawnSync } = await import('node:child_process');
    const deadPid = spawnSync('true').pid!;
    const stale = `tri-${deadPid}-1-lan`;
    const { runCommand } = await import('./lib/run-command.js');
    await runCommand('ip', ['netns', 'add', stale]);
    try {
      const removed = await sweepStale();
      expect(removed).toContain(stale);
      const left = await listNamespaces();
      expect(left).not.toContain(stale);
      expect(left).toContain(lan.netns);
    } finally {
      await runCommand('ip', ['netns', 'del', stale], { allowFailure: true });
    }
  });

  it('destroy() leaves no namespace or bridge behind', async () => {
    const extra = await createLan(2);
    const names = [extra.netns, ...extra.hosts.map((h) => h.netns)];
    await startUdpEcho(extra, extra.hosts[0]!, ECHO_PORT);
    await extra.partition([[extra.hosts[0]!]]);
    expect(await listNamespaces()).toEqual(expect.arrayContaining(names));
    await extra.destroy();
    const left = await listNamespaces();
    expect(left.filter((n) => names.includes(n))).toEqual([]);
    // Bridges and veths lived inside the deleted namespaces; nothing ours exists at the top.
    const { execFileSync } = await import('node:child_process');
    const links = execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' });
    expect(links).not.toContain(extra.baseName);
  });
});
