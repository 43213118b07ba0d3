// The three membership measurements, taken from the agents' own member lists (serf's RPC
// `members`, the data `serf members` prints), polled every POLL_MS over open connections.
import type { SerfAgent } from './serf-cluster.js';

const POLL_MS = 25;

/** Per-observer times (ms) at which a condition first held, in agent order. */
export interface ObservedTimes {
  /** ms after the start event, per observer that saw it before the deadline. */
  times: number[];
  /** Observers that never saw it before the deadline. */
  missing: string[];
}

/**
 * Polls every observer until `holds(members)` is true for it, recording when (ms after
 * `since`, a performance.now() value). Bounded by timeoutMs.
 */
export async function timeUntilEach(
  observers: readonly SerfAgent[],
  since: number,
  holds: (members: { name: string; status: string }[]) => boolean,
  timeoutMs: number,
): Promise<ObservedTimes> {
  const seenAt = new Map<SerfAgent, number>();
  const deadline = since + timeoutMs;
  while (seenAt.size < observers.length && performance.now() < deadline) {
    const pending = observers.filter((o) => !seenAt.has(o));
    await Promise.all(
      pending.map(async (o) => {
        if (!o.rpc) return;
        const members = await o.rpc.members().catch(() => undefined);
        // The time is taken after the answer: the state held at most one round trip earlier.
        if (members && holds(members)) seenAt.set(o, performance.now() - since);
      }),
    );
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  return {
    times: observers.filter((o) => seenAt.has(o)).map((o) => seenAt.get(o)!),
    missing: observers.filter((o) => !seenAt.has(o)).map((o) => o.name),
  };
}

export function allAlive(names: readonly string[]) {
  return (members: { name: string; status: string }[]): boolean =>
    names.every((n) => members.some((m) => m.name === n && m.status === 'alive'));
}

export function reportedFailed(name: string) {
  return (members: { name: string; status: string }[]): boolean => members.some((m) => m.name === name && m.status === 'failed');
}
