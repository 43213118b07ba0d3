// The recall index under the soak's churn, without a node around it: hours of the soak's writes
// in seconds, to see whether the index file levels off. Episodes go in as a node folds them (one
// transaction per 250 ms of writes: 50 writes/s over 200 agents and 20 echo episodes/s at scale
// 1), a policy sweep every 30 s forgets what is past each agent's policy (25; echo 1,000:
// bench/soak-steady.ts), and with --maintain on the node's 5-minute maintenance pass runs
// (src/recall/recall-maintenance.ts). Simulated time; the figures are the file's bytes.
//   node dist/bench/recall-churn.js [--minutes 120] [--scale 1] [--maintain on|off] [--out bench/results]
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Episode } from '../crdt/index.js';
import { RecallIndex } from '../src/recall/recall-index.js';
import type { IndexMaintenance } from '../src/recall/recall-maintenance.js';
import { metric, writeResult } from './lib/index.js';
import { ECHO_POLICY, slopePer10Min, SOAK_AGENT_POLICY } from './soak-steady.js';

const { values } = parseArgs({ options: { minutes: { type: 'string', default: '120' }, scale: { type: 'string', default: '1' }, maintain: { type: 'string', default: 'on' }, out: { type: 'string', default: 'bench/results' } } });
if (values.maintain !== 'on' && values.maintain !== 'off') throw new Error('--maintain is on or off');
const minutes = Number(values.minutes);
const scale = Number(values.scale);
if (!(minutes > 0 && minutes <= 24 * 60)) throw new Error('--minutes is in (0, 1440]');
if (!(scale > 0 && scale <= 1)) throw new Error('--scale is in (0, 1]');
const AGENTS = Math.round(200 * scale);
const FOLD_MS = 250;
const SWEEP_MS = 30_000;
const MAINTAIN_MS = 5 * 60_000;
const WARMUP_MS = 5 * 60_000;

const dir = mkdtempSync(join(tmpdir(), 'tri-recall-churn-'));
const file = join(dir, 'recall.db');
const index = new RecallIndex(file);
const held = new Map<string, number[]>();
let written = 0;
let forgotten = 0;
const episode = (i: number, echo: boolean): Episode => ({ id: `${echo ? 't' : 'e'}${i}`, task: echo ? `echo ${i}` : `w${i}`, outcome: 'ok', notes: echo ? `{"n":${i}}` : `soak write ${i}`, tags: [], counters: {}, fields: {}, node: 's1', createdAt: 1_700_000_000_000 + i });
const put = (agent: string, echo: boolean): void => {
  const i = written++;
  index.put(agent, episode(i, echo));
  const list = held.get(agent) ?? [];
  held.set(agent, list);
  list.push(i);
};
const fileBytes = (suffix = ''): number => (existsSync(file + suffix) ? statSync(file + suffix).size : 0);
const samples: Array<{ minute: number; fileMB: number; walMB: number; pagesMB: number; episodes: number }> = [];
const passes: IndexMaintenance[] = [];
let owedWrites = 0;
let owedEcho = 0;
const cpuStart = process.cpuUsage();
try {
  for (let t = FOLD_MS; t <= minutes * 60_000; t += FOLD_MS) {
    owedWrites += (50 * scale * FOLD_MS) / 1000;
    owedEcho += (20 * scale * FOLD_MS) / 1000;
    index.batch(() => {
      for (; owedWrites >= 1; owedWrites--) put(`soak-${written % AGENTS}`, false);
      for (; owedEcho >= 1; owedEcho--) put('echo', true);
    });
    if (t % SWEEP_MS === 0) {
      index.batch(() => {
        for (const [agent, list] of held) {
          const cap = agent === 'echo' ? ECHO_POLICY.maxEpisodes : SOAK_AGENT_POLICY.maxEpisodes;
          for (; list.length > cap; forgotten++) index.remove(agent, `${agent === 'echo' ? 't' : 'e'}${list.shift()!}`);
        }
      });
    }
    if (values.maintain === 'on' && t % MAINTAIN_MS === 0) passes.push(index.maintain());
    if (t % 60_000 === 0) samples.push({ minute: t / 60_000, fileMB: fileBytes() / 2 ** 20, walMB: fileBytes('-wal') / 2 ** 20, pagesMB: index.bytes() / 2 ** 20, episodes: index.episodes() });
  }
  const cpu = process.cpuUsage(cpuStart);
  const after = samples.filter((s) => s.minute * 60_000 >= WARMUP_MS);
  const slope = (pick: (s: (typeof samples)[number]) => number): number => slopePer10Min(after.map((s) => [s.minute * 60, pick(s)] as const));
  const max = (xs: number[]): number => (xs.length ? Math.max(...xs) : NaN);
  const { path } = writeResult(
    values.out!,
    `recall-churn-maintain-${values.maintain}`,
    {
      simulated_minutes: metric(minutes, 'min'),
      load_scale: metric(scale, 'x (50 writes/s, 20 echo episodes/s, 200 agents at 1)'),
      episodes_written: metric(written, 'episodes'),
      episodes_forgotten: metric(forgotten, 'episodes'),
      episodes_live_at_end: metric(samples.at(-1)?.episodes ?? NaN, 'episodes'),
      file_at_end: metric(samples.at(-1)?.fileMB ?? NaN, 'MB'),
      file_max_after_warmup: metric(max(after.map((s) => s.fileMB)), 'MB'),
      file_growth: metric(slope((s) => s.fileMB), 'MB per 10 min'),
      file_and_wal_growth: metric(slope((s) => s.fileMB + s.walMB), 'MB per 10 min'),
      wal_max: metric(max(samples.map((s) => s.walMB)), 'MB'),
      maintenance_passes: metric(passes.length, 'passes'),
      maintenance_ms_max: metric(max(passes.map((p) => p.ms)), 'ms'),
      maintenance_ms_total: metric(passes.reduce((a, p) => a + p.ms, 0), 'ms'),
      cpu_per_episode: metric(((cpu.user + cpu.system) / 1000 / written) * 1000, 'us (writes, forgets and maintenance)'),
    },
    { note: 'simulated time, real SQLite file; samples every simulated minute', samples, passes },
  );
  const result = writeResultSummary(path);
  console.log(result);
} finally {
  index.close();
  rmSync(dir, { recursive: true, force: true });
}

function writeResultSummary(path: string): string {
  const last = samples.at(-1);
  return `wrote ${path}: ${written} written, ${forgotten} forgotten, file ${last?.fileMB.toFixed(2)} MB (max after warm-up ${Math.max(...samples.filter((s) => s.minute >= 5).map((s) => s.fileMB)).toFixed(2)}), WAL ${last?.walMB.toFixed(2)} MB, ${passes.length} passes (max ${Math.max(0, ...passes.map((p) => p.ms)).toFixed(0)} ms)`;
}
