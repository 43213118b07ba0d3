import { it } from 'vitest';
import { createLan } from './lib/index.js';
import { TriCluster } from './lib/cluster.js';
it('dbg', async () => {
  const lan = await createLan(1);
  const c = await TriCluster.create(lan);
  try {
    const n = c.start(lan.hosts[0]!, 'n1');
    await new Promise((r) => setTimeout(r, 3000));
    const r = await lan.exec(lan.hosts[0]!, process.execPath, ['-e', `fetch('http://10.213.1.1:10080/status').then(r=>r.text()).then(console.log, e=>console.log('ERR', e, e.cause))`], { allowFailure: true });
    console.log(r);
    console.log(n.log.join('\n'));
  } finally { await c.destroy(); await lan.destroy(); }
});
