// `tri nodes --at HOST[:RPC_PORT] [--json]` (alias `tri nodes list`): the member table as one node sees it.
import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { addClientOptions, withClient, type ClientFlags } from '../client.js';
import { printTable } from '../table.js';
import type { MemberView } from '../../node/cluster-node.js';

export function registerNodes(program: Command): void {
  const cmd = program
    .command('nodes')
    .description('list the members of the cluster as one node sees them (alias: nodes list)')
    .argument('[list]', 'optional, same as without it')
    .option('--json', 'print one JSON array on stdout');
  addClientOptions(cmd);
  cmd.action(async (sub: string | undefined, flags: ClientFlags & { json?: boolean }) => {
    if (sub !== undefined && sub !== 'list') throw new UsageError(`unknown nodes subcommand "${sub}"; use "tri nodes" or "tri nodes list"`);
    const members = await withClient(flags, (c) => c.members());
    if (flags.json) {
      process.stdout.write(JSON.stringify(members) + '\n');
      return;
    }
    printTable(
      ['NAME', 'ADDRESS', 'ROLE', 'STATE', 'SWIM', 'INC', 'RTT MS', 'SLOTS'],
      members.map((m: MemberView) => [m.name, `${m.address}:${m.port}`, m.role, m.state, m.swimState, String(m.incarnation), m.rttMs === null ? '-' : m.rttMs.toFixed(2), `${m.freeSlots}/${m.slots}`]),
    );
  });
}
