// `tri task submit | list`: run work on the cluster and see the replicated task table.
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import type { TaskView } from '../../tasks/index.js';
import { STRATEGIES } from '../../tasks/routing.js';
import { addClientOptions, withClient, type ClientFlags } from '../client.js';
import { AGENT_ID_ALPHABET, parseAgentId, parseChoice, parseIntIn } from '../parse.js';
import { printTable } from '../table.js';
import { escapeControls } from '../escape.js';
import type { Json } from '../../../crdt/index.js';
import { TriError, UsageError } from '../../errors.js';
import { CLUSTER_AGENT_TYPES_METHOD, type ClusterAgentTypes } from '../../node/agent-types-rpc.js';
import { objectWith } from '../../client/reply-shape.js';

/** The `--json` shape of a task (DESIGN.md): {id, type, status, node, attempts, result}. */
function brief(t: TaskView): { id: string; type: string; status: string; node: string | null; attempts: number; result: Json; error?: string } {
  return { id: t.id, type: t.type, status: t.status, node: t.node, attempts: t.attempts, result: t.result, ...(t.error ? { error: t.error } : {}) };
}

/** `--wait` ended before the task did: exit 4, as for a write not acknowledged in time. */
class WaitTimeoutError extends TriError {
  override readonly exitCode = 4;
}

function parseJsonInput(value: string): Json {
  try {
    return JSON.parse(value) as Json;
  } catch (err) {
    throw new InvalidArgumentError(`--input is not JSON (${(err as Error).message}); quote it, for example --input '{"text":"hello"}'`);
  }
}

export function registerTask(program: Command): void {
  const task = program.command('task').description('submit tasks to agents and list the task table');

  addClientOptions(
    task
      .command('submit')
      .description('submit a task (needs quorum: exit 3 on a read-only node)')
      .requiredOption('--type <type>', 'agent type: echo, wordcount, sha256, sleep, or one from --agents modules')
      .requiredOption('--input <json>', 'task input as JSON', parseJsonInput)
      .option('--strategy <strategy>', STRATEGIES.join(' | '), parseChoice(STRATEGIES))
      .option('--agent <id>', `whose memory records the episode (default: the type; ${AGENT_ID_ALPHABET})`, parseAgentId)
      .option('--wait', 'wait until the task is done or failed (exit 1 if it failed, 4 if --wait-timeout passed first)')
      .option('--wait-timeout <ms>', 'how long --wait waits for the task to finish (--timeout bounds each call to the node)', parseIntIn(1, 86_400_000), 60_000)
      .option('--json', 'print {id, type, status, node, attempts, result}'),
  ).action(async (f: ClientFlags & { type: string; input: Json; strategy?: (typeof STRATEGIES)[number]; agent?: string; wait?: boolean; waitTimeout: number; json?: boolean }) => {
    const t = await withClient(f, async (c) => {
      // Refuse a type no live member runs before anything is written (no failed row, no episode).
      const known = await c.call(CLUSTER_AGENT_TYPES_METHOD, null, objectWith<ClusterAgentTypes>({ types: 'array', unanswered: 'array' })).catch(() => undefined);
      if (known && known.unanswered.length === 0 && !known.types.includes(f.type)) {
        throw new UsageError(`no live member runs agent type "${f.type}"; known types: ${known.types.join(', ') || 'none'} (start a node with --agents MODULE that defines it)`);
      }
      let view = await c.submitTask({ type: f.type, input: f.input, strategy: f.strategy, agent: f.agent });
      if (f.wait) view = await c.waitForTask(view.id, f.waitTimeout);
      return view;
    });
    if (f.json) process.stdout.write(JSON.stringify(brief(t)) + '\n');
    else process.stdout.write(escapeControls(`task ${t.id} ${t.status}${t.node ? ` on ${t.node}` : ''}${t.status === 'done' ? `: ${JSON.stringify(t.result)}` : t.error ? `: ${t.error}` : ''}`) + '\n');
    if (f.wait && t.status === 'failed') throw new TriError(`task ${t.id} failed: ${t.error ?? 'no reason recorded'}`);
    if (f.wait && t.status !== 'done') {
      throw new WaitTimeoutError(`task ${t.id} is still ${t.status} after --wait-timeout ${f.waitTimeout} ms; it keeps running: see \`tri task list\`, or wait longer`);
    }
  });

  addClientOptions(task.command('list').description('list the replicated task table').option('--json', 'print one JSON array')).action(async (f: ClientFlags & { json?: boolean }) => {
    const list = await withClient(f, (c) => c.listTasks());
    if (f.json) {
      process.stdout.write(JSON.stringify(list.map(brief)) + '\n');
      return;
    }
    printTable(['ID', 'TYPE', 'STATUS', 'NODE', 'ATTEMPTS', 'RESULT'], list.map((t) => [t.id, t.type, t.status, t.node ?? '-', String(t.attempts), t.error ?? JSON.stringify(t.result ?? null).slice(0, 50)]));
  });
}
