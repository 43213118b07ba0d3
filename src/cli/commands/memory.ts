// `tri memory add | show | digest`: write and read an agent's replicated memory through any node.
import type { Command } from 'commander';
import { addClientOptions, withClient, type ClientFlags } from '../client.js';
import { AGENT_ID_ALPHABET, collect, parseAgentId, parseText } from '../parse.js';
import { printTable } from '../table.js';
import { registerMemoryQuery } from './memory-query.js';

export function registerMemory(program: Command): void {
  const memory = program.command('memory').description("an agent's replicated memory");

  addClientOptions(
    memory
      .command('add')
      .description('record an episode in an agent\'s memory (needs quorum: exit 3 when read-only, 4 when not acknowledged in time)')
      .requiredOption('--agent <id>', `agent id (${AGENT_ID_ALPHABET})`, parseAgentId)
      .requiredOption('--task <text>', 'what the agent did (non-empty)', parseText)
      .requiredOption('--outcome <text>', 'how it went (non-empty)', parseText)
      .option('--note <text>', 'free text notes (non-empty when given)', parseText)
      .option('--tag <tag>', 'a tag; repeat for more', collect)
      .option('--json', 'print the episode as JSON'),
  ).action(async (f: ClientFlags & { agent: string; task: string; outcome: string; note?: string; tag?: string[]; json?: boolean }) => {
    const ep = await withClient(f, (c) => c.addEpisode({ agent: f.agent, task: f.task, outcome: f.outcome, note: f.note, tags: f.tag }));
    process.stdout.write(f.json ? JSON.stringify(ep) + '\n' : `recorded episode ${ep.id} for agent ${f.agent}\n`);
  });

  addClientOptions(
    memory
      .command('show')
      .description("list an agent's episodes (an unknown agent has none)")
      .requiredOption('--agent <id>', `agent id (${AGENT_ID_ALPHABET})`, parseAgentId)
      .option('--json', 'print one JSON array'),
  ).action(async (f: ClientFlags & { agent: string; json?: boolean }) => {
    const [eps, status] = await withClient(f, (c) => Promise.all([c.showMemory(f.agent), c.status().catch(() => undefined)]));
    // A node still joining or syncing answers from what it has so far: say so, off stdout.
    if (status && status.state !== 'ACTIVE' && status.state !== 'DEGRADED') {
      process.stderr.write(`tri: note: node ${status.name} is ${status.state}, not caught up with the cluster yet; it may not list every episode\n`);
    }
    if (f.json) {
      process.stdout.write(JSON.stringify(eps) + '\n');
      return;
    }
    printTable(
      ['ID', 'TIME', 'TASK', 'OUTCOME', 'NODE', 'TAGS', 'NOTES'],
      eps.map((e) => [e.id, new Date(e.createdAt).toISOString().replace(/\.\d+Z$/, 'Z'), e.task, e.outcome, e.node, e.tags.join(','), e.notes.length > 40 ? e.notes.slice(0, 37) + '...' : e.notes]),
    );
  });

  addClientOptions(
    memory
      .command('digest')
      .description('one hash over all memory the node holds (equal on converged replicas)')
      .option('--json', 'print {digest, documents}'),
  ).action(async (f: ClientFlags & { json?: boolean }) => {
    const d = await withClient(f, (c) => c.memoryDigest());
    process.stdout.write(f.json ? JSON.stringify(d) + '\n' : `${d.digest}  (${d.documents} documents)\n`);
  });

  registerMemoryQuery(memory);
}
