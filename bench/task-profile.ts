// Where a task's CPU goes, from the node processes' own profiles: with TRI_TASK_BENCH_PROF=DIR
// every node runs under `node --cpu-prof` (task-failover.ts), and after a mode's cluster stopped
// task-mode.ts reads its nodes' profiles, keeps the samples taken while tasks ran (V8 stamps
// them with the same monotonic clock as process.hrtime), and charges each sample to a part of
// the system: the first frame of our own code from the leaf up decides (Yjs called by the sync
// engine counts as replication, and so on), except that a sample inside Yjs or lib0 counts as
// Yjs's own, whoever called it; the parts add up to the nodes' busy time. A sampled profile
// counts wall time while the process ran, so on a loaded machine the absolute milliseconds
// include time the machine took away: the shares are what transfers.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface Frame {
  functionName: string;
  url: string;
  /** 0-based; -1 or absent for native frames. */
  lineNumber?: number;
}

interface ProfileNode {
  id: number;
  callFrame: Frame;
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** The parts a node's busy time is split into, in the order checked (our code by directory). */
const OUR_PARTS: ReadonlyArray<[part: string, dirs: readonly string[]]> = [
  ['tasks (table, scheduler, task service, agents)', ['/src/tasks/', '/src/node/task-', '/src/agents/']],
  ['recall index (FTS5)', ['/src/recall/']],
  ['storage (SQLite, fsync)', ['/src/storage/']],
  ['replication (sync engine, memory service, digests)', ['/src/sync/', '/src/memory/', '/src/placement/', '/src/quorum/']],
  ['crdt (update validation, episode schema)', ['/crdt/']],
  ['event loop (timers, scheduling)', ['/src/runtime/']],
  ['rpc, transport, TLS', ['/src/rpc/', '/src/transport/', '/src/security/', '/src/client/']],
  ['gossip (membership)', ['/src/gossip/', '/src/node/swim', '/src/node/member']],
  ['metrics, status, http', ['/src/node/metrics', '/src/node/http', '/src/node/status', 'prom-client']],
];

const YJS_PART = 'Yjs and lib0 (encode, decode, integrate)';

/** The part of one frame when it is ours (or a library we call directly); undefined for Yjs, lib0 and Node.js internals. */
function ourPart(f: Frame): string | undefined {
  const url = f.url;
  const ours = url.includes('/dist/') && !url.includes('/node_modules/');
  if (!ours && !url.includes('/node_modules/prom-client/')) return undefined;
  for (const [part, dirs] of OUR_PARTS) if (dirs.some((d) => url.includes(d))) return part;
  return ours ? 'other node code' : undefined;
}

/** Samples with no frame of ours: by what the leaf is. */
function leafPart(f: Frame): string {
  if (f.functionName === '(garbage collector)') return 'garbage collection';
  if (f.functionName === '(program)') return 'V8 and native (unattributed)';
  if (f.url.startsWith('node:internal/modules') || f.url.includes('esm/')) return 'module loading';
  if (f.url.startsWith('node:net') || f.url.startsWith('node:tls') || f.url.includes('stream') || f.url.startsWith('node:dgram')) return 'rpc, transport, TLS';
  return 'event loop (timers, scheduling)';
}

/** A frame as `function file:line`, the file relative to dist/ or node_modules/. */
function frameName(f: Frame): string {
  const file = f.url.replace(/^.*\/(dist|node_modules)\//, '');
  return `${f.functionName || '(anonymous)'} ${file}${f.lineNumber !== undefined && f.lineNumber >= 0 ? `:${f.lineNumber + 1}` : ''}`;
}

export interface ProfileSplit {
  busy: Record<string, number>;
  idleUs: number;
  /** Busy microseconds in each function of ours and everything it called (each function once per sample, however deep it recurses). */
  inclusiveUs: Map<string, number>;
  /** Busy microseconds with the function as the leaf (any code: Yjs, SQLite's callers, GC). */
  selfUs: Map<string, number>;
}

/** Busy microseconds by part over samples taken in [fromUs, toUs] (monotonic), and the idle microseconds; and by function. */
export function splitProfile(p: CpuProfile, fromUs: number, toUs: number): ProfileSplit {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // The part of each profile node, memoized: the first frame of ours from it to the root.
  const partOf = new Map<number, string | null>();
  const part = (id: number): string | null => {
    const known = partOf.get(id);
    if (known !== undefined) return known;
    const own = ourPart(byId.get(id)!.callFrame);
    const up = parent.get(id);
    const found = own ?? (up === undefined ? null : part(up));
    partOf.set(id, found);
    return found;
  };
  const busy: Record<string, number> = {};
  let idleUs = 0;
  const inclusiveUs = new Map<string, number>();
  const selfUs = new Map<string, number>();
  // Each profile node's own functions up to the root, memoized (a set: recursion counts once).
  const oursUp = new Map<number, readonly string[]>();
  const chain = (id: number): readonly string[] => {
    const known = oursUp.get(id);
    if (known) return known;
    const f = byId.get(id)!.callFrame;
    const up = parent.get(id);
    const above = up === undefined ? [] : chain(up);
    const mine = f.url.includes('/dist/') && !f.url.includes('/node_modules/') ? frameName(f) : undefined;
    const found = mine === undefined || above.includes(mine) ? above : [...above, mine];
    oursUp.set(id, found);
    return found;
  };
  const add = (m: Map<string, number>, k: string, us: number): void => {
    m.set(k, (m.get(k) ?? 0) + us);
  };
  let t = p.startTime;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i]!;
    if (t < fromUs || t > toUs) continue;
    // A sample stands for the time until the next one.
    const us = p.timeDeltas[i + 1] ?? 0;
    const node = byId.get(p.samples[i]!)!;
    if (node.callFrame.functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    // Yjs's own work (encode, decode, integrate) apart, whoever called it; its observers' calls into our code count as ours.
    const leafUrl = node.callFrame.url;
    const name = leafUrl.includes('/node_modules/yjs/') || leafUrl.includes('/node_modules/lib0/') ? YJS_PART : (part(node.id) ?? leafPart(node.callFrame));
    busy[name] = (busy[name] ?? 0) + us;
    add(selfUs, frameName(node.callFrame), us);
    for (const f of chain(node.id)) add(inclusiveUs, f, us);
  }
  return { busy, idleUs, inclusiveUs, selfUs };
}

export interface ProfileBreakdown {
  /** Profiles found for the mode's node processes. */
  nodes: number;
  /** Each part's share of the nodes' busy time while tasks ran, in percent. */
  sharePct: Record<string, number>;
  /** Each part's sampled milliseconds per task, all nodes together. */
  msPerTask: Record<string, number>;
  /** The nodes' sampled busy share of the window (the rest idle: waiting for the network, the disk or the next task). */
  busyPct: number;
  /** The TOP_FUNCTIONS functions of ours with the most busy time including their callees, in percent of busy (they nest: shares overlap). */
  inclusivePct: Record<string, number>;
  /** The TOP_FUNCTIONS leaf functions with the most busy time of their own, in percent of busy. */
  selfPct: Record<string, number>;
}

/** Functions listed in each of ProfileBreakdown's per-function tables. */
const TOP_FUNCTIONS = 40;

/** Reads the profiles of processes `pids` in `dir` and splits their samples in [fromUs, toUs] over `tasks`. */
export function profileBreakdown(dir: string, pids: readonly number[], fromUs: number, toUs: number, tasks: number): ProfileBreakdown | undefined {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile') && pids.some((pid) => f.includes(`.${pid}.`)));
  if (files.length === 0) return undefined;
  const busy: Record<string, number> = {};
  let idleUs = 0;
  const inclusive = new Map<string, number>();
  const self = new Map<string, number>();
  for (const f of files) {
    const split = splitProfile(JSON.parse(readFileSync(join(dir, f), 'utf8')) as CpuProfile, fromUs, toUs);
    idleUs += split.idleUs;
    for (const [k, v] of Object.entries(split.busy)) busy[k] = (busy[k] ?? 0) + v;
    for (const [k, v] of split.inclusiveUs) inclusive.set(k, (inclusive.get(k) ?? 0) + v);
    for (const [k, v] of split.selfUs) self.set(k, (self.get(k) ?? 0) + v);
  }
  const total = Object.values(busy).reduce((a, b) => a + b, 0);
  const sorted = Object.entries(busy).sort((a, b) => b[1] - a[1]);
  const round = (x: number, d: number): number => Math.round(x * 10 ** d) / 10 ** d;
  return {
    nodes: files.length,
    sharePct: Object.fromEntries(sorted.map(([k, v]) => [k, round((100 * v) / Math.max(1, total), 1)])),
    msPerTask: Object.fromEntries(sorted.map(([k, v]) => [k, round(v / 1000 / Math.max(1, tasks), 3)])),
    busyPct: round((100 * total) / Math.max(1, total + idleUs), 1),
    inclusivePct: topShares(inclusive, total),
    selfPct: topShares(self, total),
  };
}

function topShares(m: ReadonlyMap<string, number>, total: number): Record<string, number> {
  const top = [...m].sort((a, b) => b[1] - a[1]).slice(0, TOP_FUNCTIONS);
  return Object.fromEntries(top.map(([k, v]) => [k, Math.round((1000 * v) / Math.max(1, total)) / 10]));
}
