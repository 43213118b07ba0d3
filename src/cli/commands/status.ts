// `tri status --at HOST [--json]`: one node's own view of itself, as GET /status has it: lifecycle,
// whether it is writable and why not, its voter configuration (number, voters, a change being
// agreed), learners, removed members, and what it holds.
import type { Command } from 'commander';
import { addClientOptions, withClient, type ClientFlags } from '../client.js';
import { printTable } from '../table.js';

export function registerStatus(program: Command): void {
  const cmd = program.command('status').description("one node's lifecycle, quorum, voter configuration, learners and counts (as its /status)").option('--json', 'print the /status document');
  addClientOptions(cmd).action(async (flags: ClientFlags & { json?: boolean }) => {
    const s = await withClient(flags, (c) => c.status());
    if (flags.json) {
      process.stdout.write(JSON.stringify(s) + '\n');
      return;
    }
    const q = s.quorum;
    const list = (xs: string[]) => (xs.length ? xs.join(',') : '-');
    printTable(
      ['FIELD', 'VALUE'],
      [
        ['node', `${s.name} (${s.address}, incarnation ${s.incarnation})`],
        ['lifecycle', s.state],
        ['writable', q.writable ? `yes (${q.reachable}/${q.voters} voters reachable${q.tiebreaker && q.reachable * 2 === q.voters ? `, tiebreaker ${q.tiebreaker}` : ''})` : `no: ${q.reason ?? 'no quorum'} (${q.reachable}/${q.voters} voters reachable)`],
        ['configuration', `${q.configuration}${q.pendingConfiguration !== null ? ` (agreeing ${q.pendingConfiguration})` : ''}`],
        ['voters', list(s.voters)],
        ['learners', list(q.learners)],
        ['removed', list(q.removed)],
        ['members', String(s.members.length)],
        ['memory', `${s.memory.documents} documents, ${s.memory.agents} agents, digest ${s.memory.digest.slice(0, 12)}${s.memory.bytesHeld !== undefined ? `, ${s.memory.bytesHeld} bytes held, ${s.memory.documentsMoving ?? 0} moving` : ''}`],
        ['replication', s.placement ? `factor ${s.placement.replicationFactor}${s.placement.enforced ? (s.placement.partial ? ' (each agent on its replica set)' : ' (every voter holds every agent)') : ' (placement computed; every voter still holds every agent)'}` : '- (node predates replica sets)'],
        ['tasks', Object.entries(s.tasks).map(([k, v]) => `${k} ${v}`).join(', ') || '-'],
      ],
    );
  });
}
