// `tri nodes --at HOST[:RPC_PORT] [--json]` (alias `tri nodes list`): the member table as one node
// sees it, with each member's vote (VOTER or LEARNER) and the voters of its configuration that it
// does not see at all (UNKNOWN: never met since a restart, or reaped after failing), so an operator
// sees every voter the quorum counts. STATE follows SWIM: a suspected member is not shown ACTIVE.
// DOCS: the agent documents each member holds (its replica-set share), asked of each member itself.
import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { addClientOptions, clientConnector, withClient, type ClientFlags } from '../client.js';
import { documentsHeldByMember, MEMBER_ASK_MS } from '../member-documents.js';
import { printTable } from '../table.js';
import type { MemberView } from '../../node/cluster-node.js';
import type { NodeStatusJson } from '../../client/node-client.js';

/**
 * A row of `tri nodes --json`: the member view plus its vote; voters it does not see have no address.
 * documentsHeld: agent documents the member holds by its own /status, null when it did not answer.
 */
export type NodeRow = MemberView & { vote: 'voter' | 'learner'; documentsHeld?: number | null };

export function nodeRows(s: NodeStatusJson): NodeRow[] {
  const voters = new Set(s.voters);
  const rows: NodeRow[] = s.members.map((m) => ({
    ...m,
    state: m.swimState === 'suspect' && m.state === 'ACTIVE' ? ('SUSPECT' as MemberView['state']) : m.state,
    vote: voters.has(m.name) ? 'voter' : 'learner',
  }));
  for (const name of s.voters) {
    if (rows.some((r) => r.name === name)) continue;
    rows.push({ name, address: '', port: 0, rpcPort: 0, role: 'hybrid', state: 'UNKNOWN' as MemberView['state'], swimState: 'unknown' as MemberView['swimState'], incarnation: 0, rttMs: null, slots: 0, freeSlots: 0, httpPort: 0, vote: 'voter' });
  }
  return rows.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export function registerNodes(program: Command): void {
  const cmd = program
    .command('nodes')
    .description('list the members of the cluster as one node sees them, and voters it cannot see (alias: nodes list)')
    .argument('[list]', 'optional, same as without it')
    .option('--json', 'print one JSON array on stdout');
  addClientOptions(cmd);
  cmd.action(async (sub: string | undefined, flags: ClientFlags & { json?: boolean }) => {
    if (sub !== undefined && sub !== 'list') throw new UsageError(`unknown nodes subcommand "${sub}"; use "tri nodes" or "tri nodes list"`);
    const status = await withClient(flags, (c) => c.status());
    const rows = nodeRows(status);
    const held = await documentsHeldByMember(rows, status, clientConnector(flags, Math.min(flags.timeout ?? MEMBER_ASK_MS, MEMBER_ASK_MS)));
    for (const r of rows) r.documentsHeld = held.get(r.name) ?? null;
    if (flags.json) {
      process.stdout.write(JSON.stringify(rows) + '\n');
      return;
    }
    printTable(
      ['NAME', 'ADDRESS', 'ROLE', 'VOTE', 'STATE', 'SWIM', 'INC', 'RTT MS', 'SLOTS', 'DOCS'],
      rows.map((m) => [
        m.name,
        m.address ? `${m.address}:${m.port}` : '-',
        m.role,
        m.vote.toUpperCase(),
        m.state,
        m.swimState,
        m.address ? String(m.incarnation) : '-',
        m.rttMs === null ? '-' : m.rttMs.toFixed(2),
        m.address ? `${m.freeSlots}/${m.slots}` : '-',
        m.documentsHeld == null ? '-' : String(m.documentsHeld),
      ]),
    );
  });
}
