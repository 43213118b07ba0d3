// `tri cluster [--nodes 5] [--keep]` (alias cluster-demo): a local demo cluster of real node
// processes running the scripted scenario. Without a terminal it prints the scenario as lines
// and exits 0 at the end (non-zero if a step's expectation failed); with one it shows a live view
// until Ctrl-C. Either way every process it started is stopped when it ends.
import type { Command } from 'commander';
import { ProcessCluster } from '../../demo/process-cluster.js';
import { DemoFailure, runScenario } from '../../demo/scenario.js';
import { LiveView } from '../../demo/live-view.js';
import { TriError } from '../../errors.js';
import { parseIntIn } from '../parse.js';
import { createClientToken } from '../../security/client-token.js';

/** How to watch and edit the demo's agent memory live with a Yjs client (examples/live-memory). */
function liveMemoryHint(cluster: ProcessCluster): string[] {
  const token = createClientToken(Buffer.from(cluster.key, 'base64'), { docs: 'agent/*', ttlMs: 24 * 3_600_000, now: Date.now() });
  const node = `${cluster.nodes[0]!.host}:10080`;
  return [
    `Yjs clients: ws://${node}/yjs/agent/researcher?token=${token}`,
    `live page: node examples/live-memory/serve.mjs, then open http://127.0.0.1:8080/?node=${node}&agent=researcher&token=${token}`,
  ];
}

export function registerCluster(program: Command): void {
  program
    .command('cluster')
    .alias('cluster-demo')
    .description('run a local demo cluster of real node processes on 127.0.10.x and a scripted scenario')
    .option('--nodes <n>', 'how many node processes (3-32)', parseIntIn(3, 32), 5)
    .option('--keep', 'keep the cluster running after the scenario until Ctrl-C')
    .action(async (f: { nodes: number; keep?: boolean }) => {
      const cluster = new ProcessCluster(f.nodes);
      const tty = process.stdout.isTTY === true;
      const started = Date.now();
      const view = tty ? new LiveView(cluster) : undefined;
      const say = (line: string) => {
        const stamped = `[${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${line}`;
        if (view) view.say(stamped);
        else process.stdout.write(stamped + '\n');
      };
      let interrupted = false;
      const interrupt = new Promise<void>((resolve) => {
        const onSignal = () => {
          interrupted = true;
          resolve();
        };
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
      });
      view?.start();
      try {
        await Promise.race([runScenario(cluster, say), interrupt]);
        if (!interrupted) say('scenario complete' + (tty || f.keep ? '; Ctrl-C stops the cluster' : ''));
        if (!interrupted && (tty || f.keep)) for (const line of liveMemoryHint(cluster)) say(line);
        if (!interrupted && (tty || f.keep)) await interrupt;
      } catch (err) {
        say(`FAILED: ${(err as Error).message}`);
        throw new TriError(`demo scenario failed: ${(err as Error).message}`, { cause: err instanceof DemoFailure ? undefined : err });
      } finally {
        view?.stop();
        await cluster.shutdown();
        if (!tty) process.stdout.write(`stopped ${cluster.size} node processes\n`);
      }
    });
}
