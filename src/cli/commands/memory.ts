// `tri memory add | show | digest | forget | drop | policy`: write, read and forget an agent's
// replicated memory through any node.
import type { Command } from 'commander';
import type { Episode } from '../../../crdt/index.js';
import { UsageError } from '../../errors.js';
import { checkEpisodeSizes, formatBytes, MAX_NOTE_BYTES, MAX_TEXT_BYTES } from '../../limits.js';
import { addClientOptions, withClient, type ClientFlags } from '../client.js';
import { AGENT_ID_ALPHABET, collect, parseAgentId, parseIntIn, parseText } from '../parse.js';
import type { ReadConsistency, WriteConsistency } from '../../memory/consistency.js';
import { READ_LEVEL_HELP, readLevel, WRITE_LEVEL_HELP, writeLevel } from './consistency-flags.js';
import { addPageOptions, nextPageHint, pageQuery, parseDuration, readNoteFile, type PageFlags } from '../paging-flags.js';
import { printTable } from '../table.js';
import { registerMemoryQuery } from './memory-query.js';


const LIMITS = `limits: note ${formatBytes(MAX_NOTE_BYTES)}, task/outcome/tag ${formatBytes(MAX_TEXT_BYTES)} each (UTF-8)`;

export function registerMemory(program: Command): void {
  const memory = program.command('memory').description("an agent's replicated memory");

  addClientOptions(
    memory
      .command('add')
      .description(`record an episode in an agent's memory (needs quorum: exit 3 when read-only, 4 when not acknowledged in time); ${LIMITS}`)
      .requiredOption('--agent <id>', `agent id (${AGENT_ID_ALPHABET})`, parseAgentId)
      .requiredOption('--task <text>', 'what the agent did (non-empty)', parseText)
      .requiredOption('--outcome <text>', 'how it went (non-empty)', parseText)
      .option('--note <text>', `free text notes (non-empty when given; at most ${formatBytes(MAX_NOTE_BYTES)})`, parseText)
      .option('--note-file <path>', 'read the note from a file, or from stdin with -')
      .option('--tag <tag>', 'a tag; repeat for more', collect)
      .option('--consistency <level>', WRITE_LEVEL_HELP, writeLevel)
      .option('--json', 'print the episode as JSON'),
  ).action(async (f: ClientFlags & { agent: string; task: string; outcome: string; note?: string; noteFile?: string; tag?: string[]; consistency?: WriteConsistency; json?: boolean }) => {
    if (f.note !== undefined && f.noteFile !== undefined) throw new UsageError('give either --note or --note-file, not both');
    const note = f.noteFile !== undefined ? readNoteFile(f.noteFile) : f.note;
    const args = { agent: f.agent, task: f.task, outcome: f.outcome, note: note === '' ? undefined : note, tags: f.tag };
    checkEpisodeSizes(args); // the node checks the same limits; refusing here saves sending it
    const ep = await withClient(f, (c) => c.addEpisode({ ...args, ...(f.consistency ? { consistency: f.consistency } : {}) }));
    process.stdout.write(f.json ? JSON.stringify(ep) + '\n' : `recorded episode ${ep.id} for agent ${f.agent}\n`);
  });

  addClientOptions(
    addPageOptions(memory.command('show').description("list an agent's episodes, newest first, a page at a time (an unknown agent has none)"), 'episodes')
      .requiredOption('--agent <id>', `agent id (${AGENT_ID_ALPHABET})`, parseAgentId)
      .option('--tag <tag>', 'only episodes with this tag')
      .option('--outcome <text>', 'only episodes with this outcome')
      .option('--consistency <level>', READ_LEVEL_HELP, readLevel)
      .option('--json', 'print one JSON array (the next-page hint goes to stderr)'),
  ).action(async (f: ClientFlags & PageFlags & { agent: string; tag?: string; outcome?: string; consistency?: ReadConsistency; json?: boolean }) => {
    const q = { ...pageQuery(f), ...(f.tag ? { tag: f.tag } : {}), ...(f.outcome !== undefined ? { outcome: f.outcome } : {}) };
    const [{ items, next }, status] = await withClient(f, (c) =>
      Promise.all([
        (async () => {
          if (!f.all) return c.memoryPage(f.agent, q, f.consistency);
          const all: Episode[] = [];
          for await (const page of c.memoryPages(f.agent, q, f.consistency)) all.push(...page);
          return { items: all, next: undefined };
        })(),
        c.status().catch(() => undefined),
      ]),
    );
    // A node still joining or syncing answers from what it has so far: say so, off stdout.
    if (status && status.state !== 'ACTIVE' && status.state !== 'DEGRADED') {
      process.stderr.write(`tri: note: node ${status.name} is ${status.state}, not caught up with the cluster yet; it may not list every episode\n`);
    }
    if (f.json) process.stdout.write(JSON.stringify(items) + '\n');
    else {
      printTable(
        ['ID', 'TIME', 'TASK', 'OUTCOME', 'NODE', 'TAGS', 'NOTES'],
        items.map((e) => [e.id, new Date(e.createdAt).toISOString().replace(/\.\d+Z$/, 'Z'), e.task, e.outcome, e.node, e.tags.join(','), e.notes.length > 40 ? e.notes.slice(0, 37) + '...' : e.notes]),
      );
    }
    nextPageHint(next, `tri memory show --agent ${f.agent} --limit ${f.limit}`, f.json === true);
  });

  addClientOptions(
    memory
      .command('forget')
      .description('forget one episode on every replica (needs quorum: exit 3 on a read-only node); its content is reclaimed from disk')
      .requiredOption('--agent <id>', `agent id (${AGENT_ID_ALPHABET})`, parseAgentId)
      .requiredOption('--id <episode>', 'episode id (from tri memory show)')
      .option('--consistency <level>', WRITE_LEVEL_HELP, writeLevel),
  ).action(async (f: ClientFlags & { agent: string; id: string; consistency?: WriteConsistency }) => {
    const forgotten = await withClient(f, (c) => c.forgetEpisode(f.agent, f.id, f.consistency));
    process.stdout.write(forgotten ? `forgot episode ${f.id} of agent ${f.agent}\n` : `${f.at} holds no episode ${f.id} of agent ${f.agent} (never written, already forgotten, or not received there yet); nothing was forgotten\n`);
  });

  addClientOptions(
    memory
      .command('drop')
      .description("forget every episode of an agent, and its retention policy, on every replica (needs quorum)")
      .requiredOption('--agent <id>', `agent id (${AGENT_ID_ALPHABET})`, parseAgentId)
      .option('--consistency <level>', WRITE_LEVEL_HELP, writeLevel),
  ).action(async (f: ClientFlags & { agent: string; consistency?: WriteConsistency }) => {
    const n = await withClient(f, (c) => c.dropAgent(f.agent, f.consistency));
    process.stdout.write(`forgot ${n} episodes of agent ${f.agent}\n`);
  });

  addClientOptions(
    memory
      .command('policy')
      .description("show or set an agent's retention policy (replicated; the writable side forgets what is over it)")
      .requiredOption('--agent <id>', `agent id (${AGENT_ID_ALPHABET})`, parseAgentId)
      .option('--max-episodes <n>', 'keep at most this many episodes (the newest)', parseIntIn(0, 1_000_000_000))
      .option('--max-age <duration>', 'forget episodes older than this (30d, 12h, ...)', parseDuration)
      .option('--clear', 'remove the policy')
      .option('--consistency <level>', `when setting: ${WRITE_LEVEL_HELP}`, writeLevel)
      .option('--json', 'print the policy as JSON'),
  ).action(async (f: ClientFlags & { agent: string; maxEpisodes?: number; maxAge?: number; clear?: boolean; consistency?: WriteConsistency; json?: boolean }) => {
    const setting = f.clear || f.maxEpisodes !== undefined || f.maxAge !== undefined;
    if (f.clear && (f.maxEpisodes !== undefined || f.maxAge !== undefined)) throw new UsageError('give either --clear or the limits, not both');
    const policy = await withClient(f, (c) => c.memoryPolicy(f.agent, setting ? (f.clear ? {} : { maxEpisodes: f.maxEpisodes, maxAgeMs: f.maxAge }) : undefined, f.consistency));
    if (f.json) process.stdout.write(JSON.stringify(policy) + '\n');
    else if (!policy) process.stdout.write(`agent ${f.agent} has no retention policy: it keeps every episode\n`);
    else process.stdout.write(`agent ${f.agent} keeps${policy.maxEpisodes !== undefined ? ` at most ${policy.maxEpisodes} episodes` : ''}${policy.maxAgeMs !== undefined ? ` episodes younger than ${policy.maxAgeMs} ms` : ''}\n`);
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

  addClientOptions(
    memory
      .command('placement')
      .description("which voters an agent's memory is placed on (rendezvous hashing over the node's voter configuration)")
      .requiredOption('--agent <id>', `agent id (${AGENT_ID_ALPHABET})`, parseAgentId)
      .option('--json', 'print {agent, replicas, epoch, replicationFactor, voters, moving, enforced, heldHere, tasksHeldHere, pending}'),
  ).action(async (f: ClientFlags & { agent: string; json?: boolean }) => {
    const p = await withClient(f, (c) => c.placement(f.agent));
    if (f.json) {
      process.stdout.write(JSON.stringify(p) + '\n');
      return;
    }
    const out = (s: string) => process.stdout.write(s + '\n');
    if (p.epoch === 0) out(`the node holds no voter configuration yet (it has not joined a cluster): agent ${p.agent} has no placement there`);
    else out(`agent ${p.agent}: replicas ${p.replicas.join(', ')} (configuration ${p.epoch}, replication factor ${p.replicationFactor}, ${p.voters} voters)${p.moving ? ', moving' : ''}`);
    if (p.pending) out(`  configuration ${p.pending.epoch} is being agreed: there the replicas are ${p.pending.replicas.join(', ')}`);
    if (p.voters <= p.replicationFactor) out(`  every voter holds every agent (no more voters than the replication factor)`);
    if (p.heldHere !== undefined) out(`  this node ${p.heldHere ? 'holds a copy' : 'holds no copy'}${p.moving ? ' and is handing it off to the replica set' : ''}`);
    if (p.tasksHeldHere) out(`  this node holds the agent's task table (its tasks are sharded with its memory)`);
  });

  registerMemoryQuery(memory);
}
