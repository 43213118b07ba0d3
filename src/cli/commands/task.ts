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
import { formatBytes, MAX_TASK_INPUT_BYTES } from '../../limits.js';
import { validateNewTask } from '../../tasks/new-task.js';
import { addPageOptions, nextPageHint, pageQuery, readNoteFile, type PageFlags } from '../paging-flags.js';
import type { TaskStatus } from '../../tasks/task-state.js';

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
      .option('--input <json>', `task input as JSON (at most ${formatBytes(MAX_TASK_INPUT_BYTES)})`, parseJsonInput)
      .option('--input-file <path>', 'read the JSON input from a file, or from stdin with -')
      .option('--strategy <strategy>', STRATEGIES.join(' | '), parseChoice(STRATEGIES))
      .option('--agent <id>', `whose memory records the episode (default: the type; ${AGENT_ID_ALPHABET})`, parseAgentId)
      .option('--wait', 'wait until the task is done or failed (exit 1 if it failed, 4 if --wait-timeout passed first)')
      .option('--wait-timeout <ms>', 'how long --wait waits for the task to finish (--timeout bounds each call to the node)', parseIntIn(1, 86_400_000), 60_000)
      .option('--json', 'print {id, type, status, node, attempts, result}'),
  ).action(async (f: ClientFlags & { type: string; input?: Json; inputFile?: string; strategy?: (typeof STRATEGIES)[number]; agent?: string; wait?: boolean; waitTimeout: number; json?: boolean }) => {
    if ((f.input === undefined) === (f.inputFile === undefined)) throw new UsageError('give the task input with either --input JSON or --input-file PATH (- for stdin)');
    const input = f.inputFile !== undefined ? parseJsonInput(readNoteFile(f.inputFile)) : f.input!;
    validateNewTask({ type: f.type, input, strategy: f.strategy, agent: f.agent }); // the node checks the same
    const t = await withClient(f, async (c) => {
      // Refuse a type no live member runs before anything is written (no failed row, no episode).
      const known = await c.call(CLUSTER_AGENT_TYPES_METHOD, null, objectWith<ClusterAgentTypes>({ types: 'array', unanswered: 'array' })).catch(() => undefined);
      if (known && known.unanswered.length === 0 && !known.types.includes(f.type)) {
        throw new UsageError(`no live member runs agent type "${f.type}"; known types: ${known.types.join(', ') || 'none'} (start a node with --agents MODULE that defines it)`);
      }
      let view = await c.submitTask({ type: f.type, input, strategy: f.strategy, agent: f.agent });
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

  addClientOptions(
    addPageOptions(task.command('list').description('list the replicated task table, newest first, a page at a time'), 'tasks')
      .option('--status <status>', 'only tasks in this state: queued | running | done | failed', parseChoice(['queued', 'running', 'done', 'failed'] as const))
      .option('--type <type>', 'only tasks of this agent type')
      .option('--json', 'print one JSON array (the next-page hint goes to stderr)'),
  ).action(async (f: ClientFlags & PageFlags & { status?: TaskStatus; type?: string; json?: boolean }) => {
    const q = { ...pageQuery(f), ...(f.status ? { status: f.status } : {}), ...(f.type ? { type: f.type } : {}) };
    const { items, next } = await withClient(f, async (c) => {
      if (!f.all) return c.taskPage(q);
      const all: TaskView[] = [];
      for await (const page of c.taskPages(q)) all.push(...page);
      return { items: all, next: undefined };
    });
    if (f.json) process.stdout.write(JSON.stringify(items.map(brief)) + '\n');
    else printTable(['ID', 'TYPE', 'STATUS', 'NODE', 'ATTEMPTS', 'RESULT'], items.map((t) => [t.id, t.type, t.status, t.node ?? '-', String(t.attempts), t.error ?? JSON.stringify(t.result ?? null).slice(0, 50)]));
    nextPageHint(next, `tri task list --limit ${f.limit}`, f.json === true);
  });

  addClientOptions(
    task
      .command('get')
      .description('show one task in full (input, lease, result)')
      .argument('<id>', 'task id')
      .option('--json', 'print the whole task as JSON'),
  ).action(async (id: string, f: ClientFlags & { json?: boolean }) => {
    const t = await withClient(f, (c) => c.getTask(id));
    if (f.json) process.stdout.write(JSON.stringify(t) + '\n');
    else {
      process.stdout.write(
        `task ${t.id}: ${t.type} for agent ${t.agent}, ${t.status}${t.node ? ` on ${t.node}` : ''}, attempt ${t.attempts} of ${t.maxAttempts}\n` +
          `submitted ${new Date(t.submittedAt).toISOString()}${t.finishedAt !== null ? `, finished ${new Date(t.finishedAt).toISOString()}` : ''}\n` +
          `input:  ${JSON.stringify(t.input)}\n` +
          (t.status === 'done' ? `result: ${JSON.stringify(t.result)}\n` : t.error ? `error:  ${t.error}\n` : ''),
      );
    }
  });
}
