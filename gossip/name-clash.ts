// A name is one node. A push-pull's first record is its sender's own: encodeState lists the table
// in insertion order, our own record is inserted first and never removed (reap skips it), and
// every version of this code has sent it that way. So a seed can tell who is asking to merge, and
// refuse a sender that claims the name of a member it holds alive at another address when the
// metadata says it is another node (another identity): a second process under that name, started
// from another data directory, which would otherwise take the member's place. The same node at a
// new address (a restart, same identity) and a namesake that is suspect, dead or left pass.
import type { PushPullMember } from './push-pull.js';
import type { MemberInfo } from './types.js';

export interface NameClash {
  name: string;
  /** Where the refused sender runs. */
  claimedAt: string;
  /** Where the live member of that name runs. */
  liveAt: string;
  senderIdentity: string;
  liveIdentity: string;
}

/** The clash when `sender` is a second node under the name of `existing`, else undefined. */
export function findNameClash(existing: Readonly<MemberInfo> | undefined, sender: PushPullMember | undefined, identity: (meta: Uint8Array) => string | undefined): NameClash | undefined {
  if (!existing || !sender || existing.state !== 'alive' || sender.state !== 'alive' || existing.address === sender.address) return undefined;
  const liveIdentity = identity(existing.meta);
  const senderIdentity = identity(sender.meta);
  // Metadata we cannot read proves nothing either way.
  if (liveIdentity === undefined || senderIdentity === undefined || liveIdentity === senderIdentity) return undefined;
  return { name: sender.name, claimedAt: sender.address, liveAt: existing.address, senderIdentity, liveIdentity };
}
