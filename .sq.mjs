import { SqliteStore } from './dist/src/storage/sqlite-store.js';
import { mkdtempSync } from 'node:fs';
const st = SqliteStore.open({ dir: mkdtempSync('/tmp/sq-'), name: 'x', compaction: { minLogBytes: 1e12, minLogEntries: 1e12 } });
const upd = new Uint8Array(350).fill(7);
for (const batch of [1, 16]) {
  const t = performance.now(); const c0 = process.cpuUsage(); let n = 0, commits = 0;
  while (performance.now() - t < 2000) {
    const es = []; for (let i = 0; i < batch; i++) es.push({ docId: 'agent/bench-' + ((n + i) % 64), update: upd });
    st.appendMany(es); n += batch; commits++;
  }
  const c = process.cpuUsage(c0); const wall = performance.now() - t;
  console.log(`batch ${batch}: ${(n / wall * 1000).toFixed(0)} rows/s, wall/commit ${(wall / commits).toFixed(3)} ms, user/commit ${(c.user / 1000 / commits).toFixed(3)} ms, sys/commit ${(c.system / 1000 / commits).toFixed(3)} ms`);
}
