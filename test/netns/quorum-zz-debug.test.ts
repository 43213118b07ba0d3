import { it } from 'vitest';
import { createLan } from './lib/index.js';
import { TriCluster, startCluster } from './lib/cluster.js';
import { execFileSync } from 'node:child_process';
it('dbg', async () => {
  const lan = await createLan(3);
  const c = await TriCluster.create(lan);
  try {
    await startCluster(c, [...lan.hosts]);
    const t0 = Date.now();
    await lan.partition([lan.hosts.slice(0, 2), lan.hosts.slice(2)]);
    for (let i = 0; i < 14; i++) {
      const n1 = c.node('n1');
      const s = await c.status(n1);
      let ps = '';
      try { ps = execFileSync('ps', ['-o', 'pid,stat,pcpu,etime', '-p', String(n1.child.pid)], { encoding: 'utf8' }).split('\n')[1] ?? ''; } catch { ps = 'gone'; }
      console.log(`${Date.now() - t0} n1 exit=${n1.child.exitCode}/${n1.child.signalCode} ps=${ps} status=${s ? `${s.state} ${s.quorum.reachable}/${s.quorum.voters} removed=${s.quorum.removed}` : 'none'}`);
      await new Promise((r) => setTimeout(r, 1500));
    }
    console.log(c.node('n1').log.slice(-15).join('\n'));
  } finally { await c.destroy(); await lan.destroy(); }
}, 120_000);
