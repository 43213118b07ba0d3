// A fuzz worker thread (search.ts): builds the same scenario config as the main thread, then
// carries out one run index per message and posts its outcome back.
import { parentPort, workerData } from 'node:worker_threads';
import { PLANTED_BUGS } from './planted-bugs.js';
import { scenarioConfig } from './seeds.js';
import { runOne, type WorkerSetup } from './search.js';
import { loadWorkload } from './workload.js';

const setup = workerData as WorkerSetup;
const workload = setup.workloadModule ? await loadWorkload(setup.workloadModule) : undefined;
// This thread's own copy of the crdt module: the switch stays on until the worker ends.
if (setup.plantedBug) PLANTED_BUGS[setup.plantedBug](true);
const config = scenarioConfig({ nodes: setup.nodes, durationMs: setup.durationMs, workload, replicationFactor: setup.replicationFactor, skipInvariants: setup.skipInvariants, wipedRestarts: setup.wipedRestarts });

parentPort!.on('message', (index: number) => {
  void runOne(setup.seed, index, setup.nodes, setup.maxSteps, config).then((outcome) => parentPort!.postMessage({ index, outcome }));
});
