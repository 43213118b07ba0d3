// Task steps of the demo: agents take tasks with each routing strategy, then the node running a
// long task is killed with SIGKILL; the cluster declares it FAILED and the task completes
// elsewhere, with exactly one result recorded.
import { STRATEGIES } from '../tasks/routing.js';
import type { TaskView } from '../tasks/index.js';
import { DemoFailure, type Say } from './demo-common.js';
import { waitFor, type ProcessCluster } from './process-cluster.js';

export async function runTaskSteps(c: ProcessCluster, say: Say, victim: number): Promise<void> {
  const entry = await c.client(0);
  for (const strategy of STRATEGIES) {
    const submitted = await Promise.all(
      Array.from({ length: 8 }, (_, k) => entry.submitTask({ type: k % 2 ? 'wordcount' : 'sha256', input: k % 2 ? { text: `the quick brown fox ${k}` } : { data: `block ${k}`, rounds: 2000 }, strategy })),
    );
    const done = await Promise.all(submitted.map((t) => entry.waitForTask(t.id, 20_000)));
    if (done.some((t) => t.status !== 'done')) throw new DemoFailure(`${strategy}: not every task finished: ${done.map((t) => t.status).join(',')}`);
    const spread = countBy(done.map((t) => t.node ?? '?'));
    say(`tasks, ${strategy}: 8 done on ${Object.entries(spread).map(([n, k]) => `${n}x${k}`).join(' ')}`);
  }

  // A long task placed on the victim (local-first through the victim itself), then the crash.
  const victimClient = await c.client(victim);
  const long = await victimClient.submitTask({ type: 'sleep', input: { ms: 4000 }, strategy: 'local-first', agent: 'sleeper' });
  const victimName = c.nodes[victim]!.name;
  if (long.node !== victimName) throw new DemoFailure(`the long task went to ${long.node}, not ${victimName}`);
  await c.dropClient(victim);
  say(`task ${long.id} (sleep 4 s) running on ${victimName}`);
  c.kill(victim, 'SIGKILL');
  const killedAt = Date.now();
  say(`crash: SIGKILL to ${victimName}`);
  const failed = await waitFor(async () => (await c.members(0))?.find((m) => m.name === victimName && m.state === 'FAILED'), 30_000);
  if (!failed) throw new DemoFailure(`${victimName} was not declared FAILED within 30 s`);
  say(`detected: ${victimName} is FAILED after ${((Date.now() - killedAt) / 1000).toFixed(1)} s`);
  const moved = await waitFor(async () => {
    const t = await entry.getTask(long.id).catch(() => undefined);
    return t && t.node !== victimName && t.attempts >= 2 ? t : undefined;
  }, 15_000, 100);
  if (!moved) throw new DemoFailure(`task ${long.id} was not reassigned`);
  say(`reassigned: task ${long.id} now runs on ${moved.node} (attempt ${moved.attempts})`);
  const finished: TaskView = await entry.waitForTask(long.id, 20_000);
  if (finished.status !== 'done') throw new DemoFailure(`task ${long.id} ended ${finished.status}`);
  const episodes = (await entry.showMemory('sleeper')).filter((e) => e.task.includes(long.id));
  if (episodes.length !== 1) throw new DemoFailure(`expected exactly one recorded episode for ${long.id}, found ${episodes.length}`);
  say(`completed: task ${long.id} done on ${finished.node}; exactly one result and one episode recorded`);
}

function countBy(xs: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs.sort()) out[x] = (out[x] ?? 0) + 1;
  return out;
}
