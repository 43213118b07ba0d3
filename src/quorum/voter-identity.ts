// Which incarnation of a name a voter entry stands for. A Paxos acceptor must remember what it
// promised and accepted; a node whose data directory was wiped and which restarts under its old
// name has forgotten both (an acceptor with amnesia), and counting it as the old voter let two
// configurations share an epoch (docs/replica-sets.md, `tri fuzz --seed 3 --nodes 5 --agents`).
// So each voter entry carries the node id of the data directory it admitted (created when the
// directory is first initialised, new after a wipe, gossiped in every member's metadata):
//   - a node votes (answers prepare/accept, proposes, counts itself, acknowledges writes as a
//     voter) only under an entry with its own node id;
//   - the others count a member towards a quorum only when its gossiped node id is the entry's,
//     and a Paxos answer only when the node id it carries is the entry's;
//   - the new incarnation joins as a learner, catches up, and the writable side admits it in
//     place of the old entry through the next numbered configuration (change-planner.ts), as
//     etcd needs a member that lost its data removed and added again, but automatically: the old
//     incarnation can never answer again, so replacing its entry is safe whenever a writable set
//     of the other voters agrees, and needs no wait for stable-after.
// Entries and members without a node id (a version before this one) match by name, as before.

/** Whether a member carrying `nodeId` is the incarnation an entry listing `listed` admitted. */
export function sameIncarnation(listed: string | undefined, nodeId: string | undefined): boolean {
  return listed === undefined || nodeId === undefined || listed === nodeId;
}
