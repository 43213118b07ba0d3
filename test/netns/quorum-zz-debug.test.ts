import { it } from 'vitest';
import { createLan } from './lib/index.js';
import { TriCluster, startCluster } from './lib/cluster.js';
it('dbg', async () => {
  const lan = await createLan(5);
  const c = await TriCluster.create(lan);
  try {
    await startCluster(c, [...lan.hosts]);
    const t0 = Date.now();
    await lan.partition([lan.hosts.slice(0, 3), lan.hosts.slice(3)]);
    for (let i = 0; i < 20; i++) {
      const line: string[] = [];
      for (const n of ['n4', 'n5', 'n1']) {
        const s = await c.status(c.node(n));
        if (!s) { line.push(`${n}:?`); continue; }
        line.push(`${n}:${s.state} ${s.quorum.reachable}/${s.quorum.voters} [${s.members.map((m) => `${m.name}=${m.swimState[0]}${m.incarnation}`).join(' ')}] aw=${JSON.stringify((s as any).gossip?.awareness ?? (s as any).gossip?.health ?? '')}`);
      }
      console.log(`${Date.now() - t0} ${line.join(' | ')}`);
      if (i === 0) { const s = await c.status(c.node('n4')); console.log(JSON.stringify((s as any).gossip)); }
      await new Promise((r) => setTimeout(r, 1500));
    }
  } finally { await c.destroy(); await lan.destroy(); }
}, 120_000);
