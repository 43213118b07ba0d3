// `tri cluster [--nodes 5] [--keep] [--subnet 127.0.10]` (alias cluster-demo): a local demo
// cluster of real node processes running the scripted scenario. Without a terminal it prints the
// scenario as lines and exits 0 at the end (non-zero if a step's expectation failed); with one it
// shows a live view until Ctrl-C. Whatever ends it (the end, a failure, SIGINT, SIGTERM, SIGHUP),
// it undoes what it set up: iptables rules healed first, then every process it started stopped and
// its temp directory (data and key) removed; after a signal it exits 128 + the signal number (130
// after Ctrl-C). At start it removes the rules of an earlier demo that was killed mid-partition.
import { constants } from 'node:os';
import { InvalidArgumentError, type Command } from 'commander';
import { ProcessCluster } from '../../demo/process-cluster.js';
import { DemoFailure, runScenario } from '../../demo/scenario.js';
import { LiveView } from '../../demo/live-view.js';
import { LoopbackPartition } from '../../demo/isolate.js';
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

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** The demo ended on a signal: exit 128 + its number, as a shell reports it. */
export class InterruptedError extends TriError {
  override readonly exitCode: number;
  constructor(signal: NodeJS.Signals) {
    super(`interrupted by ${signal}: partition healed, node processes stopped, temporary files removed`);
    this.exitCode = 128 + (constants.signals[signal] ?? 0);
  }
}

function parseSubnet(value: string): string {
  const m = /^127\.(\d{1,3})\.(\d{1,3})$/.exec(value);
  if (!m || Number(m[1]) > 255 || Number(m[2]) > 255) throw new InvalidArgumentError(`"${value}" is not a loopback /24 prefix; give three octets such as 127.0.11`);
  return value;
}

export function registerCluster(program: Command): void {
  program
    .command('cluster')
    .alias('cluster-demo')
    .description('run a local demo cluster of real node processes on 127.0.10.x (see --subnet) and a scripted scenario')
    .option('--nodes <n>', 'how many node processes (3-32)', parseIntIn(3, 32), 5)
    .option('--keep', 'keep the cluster running after the scenario until Ctrl-C')
    .option('--subnet <a.b.c>', 'loopback /24 for the nodes (a.b.c.1 ... a.b.c.N); two demos on one host need two subnets', parseSubnet, '127.0.10')
    .action(async (f: { nodes: number; keep?: boolean; subnet: string }) => {
      // Handlers first: a signal at any moment from here on is undone properly.
      let signalled: NodeJS.Signals | undefined;
      let onInterrupt: () => void = () => undefined;
      const interrupt = new Promise<void>((resolve) => (onInterrupt = resolve));
      const onSignal = (sig: NodeJS.Signals) => {
        if (signalled) return; // a second Ctrl-C while cleaning up changes nothing
        signalled = sig;
        LoopbackPartition.healAll(); // synchronous: the host's firewall is restored before anything else
        onInterrupt();
      };
      for (const s of SIGNALS) process.on(s, onSignal);
      const stale = LoopbackPartition.removeStale();
      const cluster = new ProcessCluster(f.nodes, f.subnet);
      const tty = process.stdout.isTTY === true;
      const started = Date.now();
      const view = tty ? new LiveView(cluster) : undefined;
      const say = (line: string) => {
        const stamped = `[${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${line}`;
        if (view) view.say(stamped);
        else process.stdout.write(stamped + '\n');
      };
      if (stale.length) say(`removed iptables chains an interrupted demo left behind: ${stale.join(', ')}`);
      say(`temporary directory (data and key, removed at the end): ${cluster.dir}`);
      view?.start();
      try {
        if (!signalled) await Promise.race([runScenario(cluster, say), interrupt]);
        if (!signalled) say('scenario complete' + (tty || f.keep ? '; Ctrl-C stops the cluster' : ''));
        if (!signalled && (tty || f.keep)) for (const line of liveMemoryHint(cluster)) say(line);
        if (!signalled && (tty || f.keep)) await interrupt;
      } catch (err) {
        if (!signalled) {
          say(`FAILED: ${(err as Error).message}`);
          throw new TriError(`demo scenario failed: ${(err as Error).message}`, { cause: err instanceof DemoFailure ? undefined : err });
        }
      } finally {
        LoopbackPartition.healAll();
        view?.stop();
        await cluster.shutdown();
        if (!tty) process.stdout.write(`stopped ${cluster.size} node processes\n`);
      }
      if (signalled) throw new InterruptedError(signalled);
    });
}
