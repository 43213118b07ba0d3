import { it } from 'vitest';
import { Harness, status, sleep } from '/work/main/test/integration/security-harness.js';
it('dbg', async () => {
  const h = new Harness();
  const f = h.keyFile('a.key');
  const p = h.start('n1', '127.0.2.11', { keyFile: f });
  await sleep(4000);
  console.log(p.log.join(''), p.child.exitCode, await status('127.0.2.11'));
  try { const r = await fetch('http://127.0.2.11:10080/status'); console.log(r.status); } catch (e) { console.log('ERR', e); }
  await h.killAll();
}, 20000);
