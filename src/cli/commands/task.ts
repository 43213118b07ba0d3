// `tri task submit | list`: run work on the cluster and see the replicated task table.
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import type { TaskView } from '../../tasks/index.js';
import { STRATEGIES } from '../../tasks/routing.js';
import { addClientOptions, withClient, type ClientFlags } from '../client.js';
import { parseChoice } from '../parse.js';
import { printTable } from '../table.js';
import type { Json } from '../../../crdt/index.js';
import { TriError, UsageError } from '../../errors.js';
import { formatBytes, MAX_TASK_INPUT_BYTES } from '../../limits.js';
import { validateNewTask } from '../../tasks/index.js';
import { addPageOptions, nextPageHint, pageQuery, readNoteFile, type PageFlags } from '../paging-flags.js';
import type { TaskStatus } from '../../tasks/task-state.js';

/** The `--json` shape of a task (DESIGN.md): {id, type, status, node, attempts, result}. */
function brief(t: TaskView): { id: string; type: string; status: string; node: string | null; attempts: number; result: Json; error?: string } {
  return { id: t.id, type: t.type, status: t.status, node: t.node, attempts: t.attempts, result: t.result, ...(t.error ? { error: t.error } : {}) };
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
      .option('--agent <id>', "whose memory records the episode (default: the type)")
      .option('--wait', 'wait until the task is done or failed')
      .option('--json', 'print {id, type, status, node, attempts, result}'),
  ).action(async (f: ClientFlags & { type: string; input?: Json; inputFile?: string; strategy?: (typeof STRATEGIES)[number]; agent?: string; wait?: boolean; json?: boolean }) => {
    if ((f.input === undefined) === (f.inputFile === undefined)) throw new UsageError('give the task input with either --input JSON or --input-file PATH (- for stdin)');
    const input = f.inputFile !== undefined ? parseJsonInput(readNoteFile(f.inputFile)) : f.input!;
    validateNewTask({ type: f.type, input, strategy: f.strategy, agent: f.agent }); // the node checks the same
    const t = await withClient(f, async (c) => {
      let view = await c.submitTask({ type: f.type, input, strategy: f.strategy, agent: f.agent });
      if (f.wait) view = await c.waitForTask(view.id, f.timeout ?? 10_000);
      return view;
    });
    if (f.json) process.stdout.write(JSON.stringify(brief(t)) + '\n');
    else process.stdout.write(`task ${t.id} ${t.status}${t.node ? ` on ${t.node}` : ''}${t.status === 'done' ? `: ${JSON.stringify(t.result)}` : t.error ? `: ${t.error}` : ''}\n`);
    if (f.wait && t.status === 'failed') throw new TriError(`task ${t.id} failed: ${t.error ?? 'no reason recorded'}`);
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
