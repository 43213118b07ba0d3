// The episode workload the sync benchmarks write: realistic small episodes and the small changes
// agents make to them (a counter +1, a short note appended, a field set, a tag), deterministic
// given a seed so runs compare.
import type { NewEpisode } from '../../crdt/index.js';

/** mulberry32: a small seeded generator, good enough to vary the workload. */
export function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TASKS = ['summarise incident report', 'triage support ticket', 'review pull request', 'draft release notes', 'classify log anomaly'];
const OUTCOMES = ['success', 'partial', 'failed: timeout', 'success after retry'];
const NOTES = [
  'Checked the three linked logs; root cause was a stale cache entry.',
  'Needed two passes; the first summary missed the rollback.',
  'Escalated to on-call, customer informed.',
  '',
];
const TAGS = ['infra', 'urgent', 'customer', 'ml', 'docs', 'security'];

export function newEpisode(rand: () => number, i: number): NewEpisode {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const note = pick(NOTES);
  return {
    task: `${pick(TASKS)} #${1000 + i}`,
    outcome: pick(OUTCOMES),
    ...(note ? { note } : {}),
    tags: [pick(TAGS), pick(TAGS)].filter((t, k, a) => a.indexOf(t) === k),
    counters: { attempts: 1 },
    fields: { score: Math.round(rand() * 100) / 100 },
  };
}

/** What AgentMemoryDoc (sync, local) and AgentMemory (async, replicated) both offer. */
export interface ChangeTarget {
  increment(id: string, name: string): unknown;
  appendNote(id: string, text: string): unknown;
  set(id: string, field: string, value: number): unknown;
  tag(id: string, tag: string): unknown;
}

export type SmallChange = 'increment' | 'appendNote' | 'set' | 'tag';
export const SMALL_CHANGES: readonly SmallChange[] = ['increment', 'appendNote', 'set', 'tag'];

/** Applies the i-th small change of the rotation to episode `id` (through a doc or AgentMemory-like API). */
export function smallChange(
  target: ChangeTarget,
  id: string,
  i: number,
): unknown {
  switch (SMALL_CHANGES[i % SMALL_CHANGES.length]!) {
    case 'increment':
      return target.increment(id, 'uses');
    case 'appendNote':
      return target.appendNote(id, ' ok.');
    case 'set':
      return target.set(id, 'score', (i % 100) / 100);
    case 'tag':
      return target.tag(id, `t${i % 50}`);
  }
}
