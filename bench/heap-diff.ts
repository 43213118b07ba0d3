// Compares two V8 heap snapshots of one process (taken minutes apart, for example by
// `bench/soak-one.ts --snapshots 3,8`): objects grouped by kind and constructor name, with count
// and self size in each and the change, largest growth first. A snapshot holds only what was
// reachable (V8 collects before it writes one), so what grows between two is what the process
// keeps, not garbage waiting for a collection.
//   node dist/bench/heap-diff.js OLD.heapsnapshot NEW.heapsnapshot [--top 30]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

export interface Group {
  key: string;
  count: number;
  bytes: number;
}

/** Count and self size of every object in the snapshot, grouped by `type:name` (strings by type only). */
export function groupSnapshot(snap: Snapshot): Map<string, Group> {
  const fields = snap.snapshot.meta.node_fields;
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const types = snap.snapshot.meta.node_types[0];
  const groups = new Map<string, Group>();
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + typeAt]!]!;
    // Strings, numbers and code are named by their content: group them by kind alone.
    const named = type === 'object' || type === 'closure' || type === 'native' || type === 'array';
    const key = named ? `${type}:${snap.strings[snap.nodes[i + nameAt]!]!.slice(0, 60)}` : type;
    const g = groups.get(key) ?? { key, count: 0, bytes: 0 };
    g.count++;
    g.bytes += snap.nodes[i + sizeAt]!;
    groups.set(key, g);
  }
  return groups;
}

export interface GroupDiff {
  key: string;
  count: [number, number];
  bytes: [number, number];
}

/** Groups of both snapshots with their change, largest growth in bytes first. */
export function diffGroups(a: Map<string, Group>, b: Map<string, Group>): GroupDiff[] {
  const keys = new Set([...a.keys(), ...b.keys()]);
  return [...keys]
    .map((key) => ({ key, count: [a.get(key)?.count ?? 0, b.get(key)?.count ?? 0] as [number, number], bytes: [a.get(key)?.bytes ?? 0, b.get(key)?.bytes ?? 0] as [number, number] }))
    .sort((x, y) => y.bytes[1] - y.bytes[0] - (x.bytes[1] - x.bytes[0]));
}

const isMain = process.argv[1]?.endsWith('heap-diff.js');
if (isMain) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '30' } } });
  if (positionals.length !== 2) {
    console.error('usage: heap-diff OLD.heapsnapshot NEW.heapsnapshot [--top 30]');
    process.exit(2);
  }
  const [a, b] = positionals.map((f) => groupSnapshot(JSON.parse(readFileSync(f, 'utf8')) as Snapshot));
  const total = (g: Map<string, Group>) => [...g.values()].reduce((s, x) => s + x.bytes, 0);
  const mb = (n: number) => (n / 2 ** 20).toFixed(2);
  console.log(`reachable heap: ${mb(total(a!))} MB -> ${mb(total(b!))} MB`);
  console.log(['group', 'count', 'MB', 'change MB'].join('\t'));
  for (const d of diffGroups(a!, b!).slice(0, Number(values.top))) {
    console.log([d.key, `${d.count[0]} -> ${d.count[1]}`, `${mb(d.bytes[0])} -> ${mb(d.bytes[1])}`, mb(d.bytes[1] - d.bytes[0])].join('\t'));
  }
}
