// `tri operator voters --at HOST` lists the voter configuration as one node holds it, with each
// voter's state in that node's view. `tri operator force-voters --data DIR --voters a,b --yes` is
// the offline recovery for voters lost for good (src/quorum/force-voters.ts): run it on one
// stopped survivor, start that node, then start the other survivors.
import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { addClientOptions, withClient, type ClientFlags } from '../client.js';
import { printTable } from '../table.js';
import { nodeRows } from './nodes.js';
import { checkDataDirFlag } from '../data-dir-flag.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DB_FILE } from '../../storage/sqlite-schema.js';
import { REMOVE_VOTER_METHOD } from '../../node/operator-rpc.js';
import { objectWith } from '../../client/reply-shape.js';
import { parseReplicationFactor } from '../parse.js';
import { MAX_REPLICATION_FACTOR } from '../../placement/replication-factor.js';

const VOTERS_KEY = 'quorum/voters';

export function registerOperator(program: Command): void {
  const op = program.command('operator').description('voter configuration: list it, or recover when voters are lost for good');

  addClientOptions(op.command('voters').description('the voters of the configuration one node holds, and how it sees each').option('--json', 'print {configuration, voters: [{name, nodeId, replaced, state, swimState}]}')).action(
    async (f: ClientFlags & { json?: boolean }) => {
      const s = await withClient(f, (c) => c.status());
      const rows = nodeRows(s).filter((r) => r.vote === 'voter');
      // nodeId: the data directory the entry admitted (null: unknown, an older node or entry); replaced:
      // the member under that name runs another one (a wiped node), and waits to be admitted in its place.
      const stale = new Set(s.quorum.staleVoters ?? []);
      const ids = rows.map((r) => ({ nodeId: s.quorum.voterIds?.[r.name] ?? null, replaced: stale.has(r.name) }));
      if (f.json) {
        process.stdout.write(JSON.stringify({ configuration: s.quorum.configuration, writable: s.quorum.writable, voters: rows.map((r, i) => ({ name: r.name, ...ids[i]!, state: r.state, swimState: r.swimState })) }) + '\n');
        return;
      }
      process.stdout.write(`configuration ${s.quorum.configuration} as ${s.name} holds it (${s.quorum.writable ? 'writable' : 'read-only'}):\n`);
      const idCell = (i: number): string => `${ids[i]!.nodeId ?? '-'}${ids[i]!.replaced ? ' (replaced: another data directory runs under this name)' : ''}`;
      printTable(['VOTER', 'NODE ID', 'ADDRESS', 'STATE', 'SWIM'], rows.map((r, i) => [r.name, idCell(i), r.address ? `${r.address}:${r.port}` : '-', r.state, r.swimState]));
    },
  );

  addClientOptions(
    op
      .command('remove-voter')
      .description('remove a voter gone for good through a normal configuration change (needs a quorum; refused for a live voter)')
      .argument('<NAME>', 'the voter to remove')
      .option('--json', 'print {configuration, voters}'),
  ).action(async (name: string, f: ClientFlags & { json?: boolean }) => {
    const r = await withClient({ ...f, timeout: Math.max(f.timeout ?? 0, 20_000) }, (c) => c.call(REMOVE_VOTER_METHOD, { name }, objectWith<{ configuration: number; voters: string[] }>({ configuration: 'number', voters: 'array' })));
    process.stdout.write(f.json ? JSON.stringify(r) + '\n' : `removed ${name}: configuration ${r.configuration}, voters ${r.voters.join(', ')}\n`);
  });

  addClientOptions(
    op
      .command('replication-factor')
      .description("change the cluster's replication factor: a configuration change agreed by the voters (needs a quorum)")
      .argument('<N>', `the new factor (odd, 1-${MAX_REPLICATION_FACTOR})`, parseReplicationFactor)
      .option('--json', 'print {configuration, replicationFactor, changed}'),
  ).action(async (n: number, f: ClientFlags & { json?: boolean }) => {
    const r = await withClient({ ...f, timeout: Math.max(f.timeout ?? 0, 20_000) }, (c) => c.setReplicationFactor(n));
    process.stdout.write(f.json ? JSON.stringify(r) + '\n' : r.changed ? `replication factor ${n} from configuration ${r.configuration} on\n` : `the replication factor is ${n} already (configuration ${r.configuration}); nothing changed\n`);
  });

  op.command('force-voters')
    .description('OFFLINE, LAST RESORT: rewrite a stopped node\'s voter configuration to the given voters (when a majority of voters is lost for good)')
    .requiredOption('--data <dir>', 'data directory of a stopped survivor')
    .requiredOption('--voters <names>', 'comma-separated voters to keep (members of the current configuration)')
    .option('--yes', 'confirm: writes only the lost voters acknowledged are lost for good')
    .addHelpText('after', '\nRun it on ONE stopped survivor, start that node (writable with these voters alone), then start the\nother survivors with --join to it: they adopt its configuration. Writes that only the lost voters\nhad stored cannot come back. Never run it while the lost voters may return: two clusters would accept writes.')
    .action(async (f: { data: string; voters: string; yes?: boolean }) => {
      checkDataDirFlag(f.data);
      const keep = f.voters.split(',').map((s) => s.trim()).filter(Boolean);
      const { SqliteStore } = await import('../../storage/sqlite-store.js');
      const { forceVoters } = await import('../../quorum/force-voters.js');
      const name = await recordedName(f.data);
      const store = SqliteStore.open({ dir: f.data, name });
      try {
        const forced = forceVoters(store.kvGet(VOTERS_KEY), keep);
        const warn = (l: string) => void process.stderr.write(`tri: WARNING: ${l}\n`);
        warn(`forcing node ${name}'s voter configuration ${forced.before.epoch} (${forced.before.voters.map((v) => v.name).join(', ')}) to ${forced.after.epoch} (${forced.after.voters.map((v) => v.name).join(', ')})`);
        warn(`dropped voters: ${forced.dropped.join(', ') || 'none'}. Writes only they stored are lost; if they come back they must rejoin with fresh data directories.`);
        if (!f.yes) throw new UsageError('nothing changed: add --yes to write the new configuration');
        store.kvSet(VOTERS_KEY, forced.record);
        process.stdout.write(`configuration ${forced.after.epoch}: voters ${forced.after.voters.map((v) => v.name).join(', ')} written to ${f.data}; start node ${name}, then the other survivors\n`);
      } finally {
        store.close();
      }
    });
}

/** The node name a data directory was created for (its store refuses any other); refuses a running node's. */
async function recordedName(dir: string): Promise<string> {
  const { default: Database } = await import('better-sqlite3');
  const file = join(dir, DB_FILE);
  if (!existsSync(file)) throw new UsageError(`${dir} holds no ${DB_FILE}: not a node's data directory`);
  let db: InstanceType<typeof Database> | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true, timeout: 0 });
    const name = db.prepare("SELECT value FROM meta WHERE key = 'name'").pluck().get() as string | undefined;
    if (!name) throw new UsageError(`${file} records no node name: not a node's data directory`);
    return name;
  } catch (err) {
    if ((err as { code?: string }).code === 'SQLITE_BUSY') throw new UsageError(`${dir} is in use by a running node: stop it first (force-voters works offline only)`);
    throw err;
  } finally {
    db?.close();
  }
}
