// The members a node knew, kept in its data directory and retried after a restart, as serf's
// snapshot and Consul's retry_join do: a node restarted without --join (or with a --join seed that
// is down) finds the others by the addresses it last saw them at, instead of staying alone.
//
// Recorded: every member seen alive (name -> gossip address), except those that left gracefully
// (they are gone on purpose), at most MAX_ENTRIES, written when it changes: a member seen for the
// first time within NEW_MEMBER_DELAY_MS (a node SIGKILLed a second after it joined must still know
// its cluster when it restarts), other changes after WRITE_DELAY_MS; either delay batches a burst
// of member events into one write. Retried: every known member not alive in this node's
// view, with capped backoff, until the node stops.
import type { MemberEvent } from '../../gossip/types.js';
import type { Logger } from '../runtime/types.js';
import type { NodeStore } from '../storage/types.js';

const KEY = 'members/snapshot';
const MAX_ENTRIES = 1024;
const WRITE_DELAY_MS = 1000;
const NEW_MEMBER_DELAY_MS = 50;
const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 5000;

export interface SnapshotNode {
  readonly name: string;
  members(): Array<{ name: string; address: string; port: number; swimState: string }>;
  contact(address: string): Promise<boolean>;
  onMemberEvent(listener: (e: MemberEvent) => void): () => void;
  onStopped(hook: () => Promise<void> | void): void;
}

/** name -> "host:port" from the data directory (empty for a new node or a corrupt record). */
export function loadMemberSnapshot(store: NodeStore, self: string): Map<string, string> {
  const out = new Map<string, string>();
  try {
    const saved = JSON.parse(store.kvGet(KEY) ?? '{}') as Record<string, unknown>;
    for (const [name, address] of Object.entries(saved)) if (name !== self && typeof address === 'string') out.set(name, address);
  } catch {
    // a record that does not parse is a snapshot lost, nothing worse: the node starts as if new
  }
  return out;
}

/** Keeps the snapshot up to date and retries its members while they are not alive; stops with the node. */
export function keepMemberSnapshot(node: SnapshotNode, store: NodeStore, logger: Logger, known: Map<string, string>): void {
  let stopped = false;
  let writeTimer: NodeJS.Timeout | undefined;
  let writeDue = Infinity;
  let retryTimer: NodeJS.Timeout | undefined;
  let retryDelay = FIRST_RETRY_MS;
  const save = () => {
    writeTimer = undefined;
    writeDue = Infinity;
    if (!stopped) store.kvSet(KEY, JSON.stringify(Object.fromEntries(known)));
  };
  const off = node.onMemberEvent((e) => {
    if (e.member.name === node.name) return;
    const before = known.get(e.member.name);
    if (e.kind === 'left') known.delete(e.member.name);
    else if (e.member.state === 'alive' && (before !== undefined || known.size < MAX_ENTRIES)) known.set(e.member.name, e.member.address);
    if (known.get(e.member.name) === before) return;
    // An earlier write already due stays; a new member brings a later one forward.
    const delay = before === undefined ? NEW_MEMBER_DELAY_MS : WRITE_DELAY_MS;
    if (Date.now() + delay >= writeDue) return;
    if (writeTimer) clearTimeout(writeTimer);
    writeDue = Date.now() + delay;
    writeTimer = setTimeout(save, delay).unref();
  });
  const retry = async () => {
    retryTimer = undefined;
    const alive = new Set(node.members().filter((m) => m.swimState === 'alive').map((m) => m.name));
    const missing = [...known].filter(([name]) => !alive.has(name));
    if (missing.length > 0) {
      const answered = await Promise.all(missing.map(([, address]) => node.contact(address).catch(() => false)));
      const back = missing.filter((_, i) => answered[i]).map(([name]) => name);
      if (back.length) logger.info({ members: back }, 'reached members known from before the restart');
      retryDelay = back.length ? FIRST_RETRY_MS : Math.min(MAX_RETRY_MS, retryDelay * 2);
    } else {
      retryDelay = MAX_RETRY_MS;
    }
    if (!stopped) retryTimer = setTimeout(() => void retry(), retryDelay * (0.5 + Math.random())).unref();
  };
  if (known.size > 0) logger.info({ members: [...known.keys()] }, 'retrying the members this node knew before its restart');
  retryTimer = setTimeout(() => void retry(), FIRST_RETRY_MS).unref();
  node.onStopped(() => {
    stopped = true;
    off();
    if (writeTimer) clearTimeout(writeTimer);
    if (retryTimer) clearTimeout(retryTimer);
  });
}
