// One BullMQ worker process for the task peers (spawned by bullmq.ts, never imported):
//   node bullmq-worker.js HOST PORT QUEUE CONCURRENCY MODE
// MODE noop: each job returns its data at once (the echo task of task-throughput).
// MODE hold: each job prints "started <id>" and never finishes (the long task of task-failover,
// whose worker is SIGKILLed). Prints "ready" once connected. BullMQ's defaults otherwise
// (lockDuration 30 s, stalledInterval 30 s), as a user who picks BullMQ gets them.
import { Worker } from 'bullmq';

const [host = '', port = '6379', queue = 'bench', concurrency = '1', mode = 'noop'] = process.argv.slice(2);
if (!host || (mode !== 'noop' && mode !== 'hold')) {
  process.stderr.write('usage: bullmq-worker HOST PORT QUEUE CONCURRENCY noop|hold\n');
  process.exit(2);
}
const worker = new Worker(
  queue,
  async (job) => {
    if (mode === 'noop') return job.data as unknown;
    process.stdout.write(`started ${job.id ?? '?'}\n`);
    return new Promise(() => undefined);
  },
  { connection: { host, port: Number(port), maxRetriesPerRequest: null }, concurrency: Number(concurrency) },
);
worker.on('error', (err) => process.stderr.write(`worker error: ${err.message}\n`));
await worker.waitUntilReady();
process.stdout.write('ready\n');
