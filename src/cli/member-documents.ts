// Documents held per member for `tri nodes`: each member answers for itself (its cluster.status,
// `memory.documentsHeld`), asked over its own RPC port with the caller's credentials, all at once
// and each with a short timeout. A member that cannot be asked (or SWIM holds dead or left) is null (shown as `-`), never a
// failure of the whole command: a down member is what an operator runs `tri nodes` to see.
import { NodeClient, type NodeStatusJson } from '../client/node-client.js';
import type { MemberView } from '../node/cluster-node.js';

/** How long one member may take to answer; the listing waits for the slowest, so keep it short. */
export const MEMBER_ASK_MS = 2_000;

/** What asking a member needs of a client (a NodeClient). */
export type StatusClient = Pick<NodeClient, 'status' | 'close'>;
export type Connect = (at: string) => Promise<StatusClient>;

/** The documents a status reports held (older nodes report only `documents`, every one they hold). */
export function documentsHeldOf(s: NodeStatusJson): number | null {
  const held = s.memory?.documentsHeld ?? s.memory?.documents;
  return typeof held === 'number' && Number.isFinite(held) ? held : null;
}

/** By member name: documents held, or null when the member did not answer in time. `asked` is the node already asked. */
export async function documentsHeldByMember(members: readonly MemberView[], asked: NodeStatusJson, connect: Connect, timeoutMs = MEMBER_ASK_MS): Promise<Map<string, number | null>> {
  const out = new Map<string, number | null>([[asked.name, documentsHeldOf(asked)]]);
  // Members SWIM declared dead or gone are not asked: they cannot answer, and waiting on them slows every poll.
  const others = members.filter((m) => m.name !== asked.name && m.address !== '' && m.rpcPort > 0 && m.swimState !== 'dead' && m.swimState !== 'left');
  const answers = await Promise.all(others.map((m) => askOne(`${m.address.includes(':') ? `[${m.address}]` : m.address}:${m.rpcPort}`, m.name, connect, timeoutMs)));
  others.forEach((m, i) => out.set(m.name, answers[i]!));
  return out;
}

async function askOne(at: string, name: string, connect: Connect, timeoutMs: number): Promise<number | null> {
  let client: StatusClient | undefined;
  const work = (async () => {
    client = await connect(at);
    const s = await client.status();
    // Another process may listen at a stale address: count only the member's own answer.
    return s.name === name ? documentsHeldOf(s) : null;
  })().catch(() => null);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), timeoutMs)));
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
    void work.finally(() => client?.close().catch(() => undefined));
  }
}
