// `tri memory recall` (ranked search over episodes) and the episode edits `tri memory note | tag |
// untag | set | incr`, so an operator can find and fix a memory without writing code.
import { InvalidArgumentError, type Command } from 'commander';
import type { Episode, Json } from '../../../crdt/index.js';
import { UsageError } from '../../errors.js';
import type { AnnotateOp } from '../../memory/annotate.js';
import { asEmbedding, parseTime, type RecallQuery } from '../../recall/recall-query.js';
import { addClientOptions, withClient, type ClientFlags } from '../client.js';
import { collect, parseIntIn } from '../parse.js';
import { printTable } from '../table.js';
import type { ReadConsistency, WriteConsistency } from '../../memory/consistency.js';
import { READ_LEVEL_HELP, readLevel, WRITE_LEVEL_HELP, writeLevel } from './consistency-flags.js';

/** A value given on the command line: JSON when it parses as JSON, the plain string otherwise. */
function jsonOrString(v: string): Json {
  try {
    return JSON.parse(v) as Json;
  } catch {
    return v;
  }
}

function parseField(value: string, previous: Record<string, Json> = {}): Record<string, Json> {
  const at = value.indexOf('=');
  if (at <= 0) throw new InvalidArgumentError(`"${value}" is not NAME=VALUE (VALUE is JSON, or a plain string).`);
  return { ...previous, [value.slice(0, at)]: jsonOrString(value.slice(at + 1)) };
}

function parseVector(value: string): number[] {
  let v: unknown;
  try {
    v = JSON.parse(value);
  } catch {
    v = undefined;
  }
  const e = asEmbedding(v);
  if (!e) throw new InvalidArgumentError(`"${value.slice(0, 40)}" is not a JSON array of 1 to 4096 numbers.`);
  return e;
}

function parseTimeFlag(value: string): number {
  try {
    return parseTime(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

function printEpisode(ep: Episode, json: boolean | undefined, what: string): void {
  process.stdout.write(json ? JSON.stringify(ep) + '\n' : `${what} episode ${ep.id}: tags [${ep.tags.join(', ')}], notes ${JSON.stringify(ep.notes.length > 60 ? ep.notes.slice(0, 57) + '...' : ep.notes)}\n`);
}

type RecallFlags = ClientFlags & { agent?: string; allAgents?: boolean; text?: string; vector?: number[]; tag?: string[]; outcome?: string; field?: Record<string, Json>; since?: number; until?: number; limit: number; consistency?: ReadConsistency; json?: boolean };

export function registerMemoryQuery(memory: Command): void {
  addClientOptions(
    memory
      .command('recall')
      .description("search episodes: words of --text ranked by bm25 over task, outcome and notes (newest first without text), filtered by tags, outcome, fields and time; answered from the node's index, after merging the agent from its replica set where the node holds no copy (--all-agents: the local index only)")
      .option('--agent <id>', 'agent id')
      .option('--all-agents', 'search every agent (hits name their agent)')
      .option('--text <words>', 'free text; any word may match, more and rarer words rank higher')
      .option('--tag <tag>', 'only episodes with this tag; repeat to require several', collect)
      .option('--outcome <text>', 'only episodes with exactly this outcome')
      .option('--field <name=value>', 'only episodes whose field holds this value (JSON, or a plain string); repeatable', parseField)
      .option('--since <time>', 'created at or after: ISO time, epoch ms, or 15m / 2h / 7d ago', parseTimeFlag)
      .option('--until <time>', 'created at or before (same forms as --since)', parseTimeFlag)
      .option('--vector <json>', 'an embedding ([0.1, ...]): nearest episodes by their "embedding" field, fused with the --text rank', parseVector)
      .option('--limit <n>', 'most hits', parseIntIn(1, 1000), 10)
      .option('--consistency <level>', `with --agent: ${READ_LEVEL_HELP}`, readLevel)
      .option('--json', 'print one JSON array of {agent, score, episode}'),
  ).action(async (f: RecallFlags) => {
    if ((f.agent === undefined) === (f.allAgents !== true)) throw new UsageError('give either --agent ID or --all-agents');
    if (f.allAgents && f.consistency !== undefined) throw new UsageError('--consistency needs --agent: a search of every agent reads the local index');
    const query: RecallQuery = { text: f.text, tags: f.tag, outcome: f.outcome, fields: f.field, since: f.since, until: f.until, vector: f.vector, limit: f.limit };
    const hits = await withClient(f, (c) => c.recall(f.agent, query, f.consistency));
    if (f.json) {
      process.stdout.write(JSON.stringify(hits) + '\n');
      return;
    }
    printTable(
      ['SCORE', 'AGENT', 'ID', 'TASK', 'OUTCOME', 'TAGS', 'NOTES'],
      hits.map((h) => [h.score.toFixed(2), h.agent, h.episode.id, h.episode.task, h.episode.outcome, h.episode.tags.join(','), h.episode.notes.length > 40 ? h.episode.notes.slice(0, 37) + '...' : h.episode.notes]),
    );
  });

  const edit = (name: string, description: string, args: string, toEdit: (a: string[]) => AnnotateOp, options: (c: Command) => Command = (c) => c): void => {
    addClientOptions(
      options(memory.command(`${name} ${args}`).description(`${description} (needs quorum: exit 3 when read-only, 4 when not acknowledged in time)`).requiredOption('--agent <id>', 'agent id').option('--consistency <level>', WRITE_LEVEL_HELP, writeLevel).option('--json', 'print the episode as JSON')),
    ).action(async (...all: unknown[]) => {
      const cmd = all[all.length - 1] as Command;
      const f = cmd.opts<ClientFlags & { agent: string; json?: boolean; by?: number; consistency?: WriteConsistency }>();
      const positional = cmd.args;
      const e = toEdit(positional.slice(1));
      if (e.op === 'incr' && f.by !== undefined) e.by = f.by;
      const ep = await withClient(f, (c) => c.annotate(f.agent, positional[0]!, e, f.consistency));
      printEpisode(ep, f.json, 'updated');
    });
  };
  edit('note', "append text to an episode's notes", '<episode-id> <text>', ([text]) => ({ op: 'note', text: text! }));
  edit('tag', 'add a tag to an episode', '<episode-id> <tag>', ([tag]) => ({ op: 'tag', tag: tag! }));
  edit('untag', 'remove a tag from an episode', '<episode-id> <tag>', ([tag]) => ({ op: 'untag', tag: tag! }));
  edit('set', "set a field of an episode (VALUE is JSON, or a plain string); resolves a conflict", '<episode-id> <field> <value>', ([field, value]) => ({ op: 'set', field: field!, value: jsonOrString(value!) }));
  edit('incr', "add to a counter of an episode (default 1; negative to subtract)", '<episode-id> <counter>', ([counter]) => ({ op: 'incr', counter: counter! }), (c) =>
    c.option('--by <n>', 'amount', (v: string) => {
      const n = Number(v);
      if (v.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`"${v}" is not a number.`);
      return n;
    }),
  );
}
