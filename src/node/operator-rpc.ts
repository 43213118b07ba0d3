// `tri operator remove-voter NAME`: remove a voter that is gone for good through the normal
// configuration change (a Paxos round among the voters, so it needs a quorum), without waiting
// for stable-after. A live voter is refused (a graceful stop removes itself; a removed member that
// is alive would be admitted again as a learner at once), and so is a read-only node: with no
// quorum only the offline `tri operator force-voters` can change the voters.
import { QuorumError, TimeoutError, UsageError } from '../errors.js';
import { jsonObject, toJsonPayload } from '../rpc/json.js';
import type { ClusterNode } from './cluster-node.js';
import { METHODS } from '../rpc/methods.js';

export const REMOVE_VOTER_METHOD = METHODS.removeVoter;
const WAIT_MS = 15_000;

export function registerOperatorMethods(node: ClusterNode): void {
  node.rpc.handle(REMOVE_VOTER_METHOD, 'client', async (payload) => {
    const name = String(jsonObject(payload, 'remove-voter').name);
    const voters = node.gate.voterConfig().voters.map((v) => v.name);
    if (!voters.includes(name)) throw new UsageError(`${name} is not a voter of configuration ${node.gate.voterConfig().epoch} (voters: ${voters.join(', ')})`);
    if (name === node.name) throw new UsageError(`${name} is the node asked: stop it gracefully instead (it removes itself), or ask another voter`);
    const m = node.members().find((x) => x.name === name);
    if (m && m.swimState === 'alive') throw new UsageError(`${name} is alive: stop it (a graceful stop removes it from the voters) before removing it`);
    if (!node.gate.verdict().writable) {
      throw new QuorumError(`${node.name} is read-only (${node.gate.verdict().reason ?? 'no quorum'}): removing a voter needs a quorum; if the voters are lost for good, see tri operator force-voters`);
    }
    node.gate.requestRemoval(name);
    const deadline = Date.now() + WAIT_MS;
    while (node.gate.isVoter(name) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    if (node.gate.isVoter(name)) throw new TimeoutError(`the configuration change removing ${name} was not decided within ${WAIT_MS / 1000} s; it may still be; check with tri operator voters`);
    const c = node.gate.voterConfig();
    return toJsonPayload({ configuration: c.epoch, voters: c.voters.map((v) => v.name) });
  });
}
