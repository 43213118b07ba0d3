// Pure helpers of the membership benchmark: per-round summaries, ratios against serf, false
// positive filtering, idle rates, node log parsing, and the result file's shape.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { falseAccusations, idleRates, planFor, ratio, roundMetrics } from '../../bench/membership.js';
import { allInState, allInSwimState, bytesSentBetween, parseMemberLogLine, parseSsBytesSent, type NodeStatus } from '../../bench/lib/proc-cluster.js';
import { writeResult } from '../../bench/lib/result.js';
import { SCENARIOS } from '../../bench/run.js';

describe('bench membership: roundMetrics', () => {
  it('takes first/last observer per round, then median and range over rounds', () => {
    const m = roundMetrics('n5_detection', [
      [3000, 3100, 3500],
      [5000, 5200],
      [4000, 4100, 4400],
    ]);
    expect(m.n5_detection_first_median).toEqual({ value: 4000, unit: 'ms' });
    expect(m.n5_detection_all_median!.value).toBe(4400);
    expect(m.n5_detection_all_min!.value).toBe(3500);
    expect(m.n5_detection_all_max!.value).toBe(5200);
    expect(m.n5_detection_p50!.value).toBe(4050); // median of all 8 observations
    expect(m.n5_detection_rounds).toEqual({ value: 3, unit: 'rounds' });
  });

  it('leaves out rounds nobody observed and gives NaN, not a throw, when none were', () => {
    expect(roundMetrics('x', [[], [10, 20]]).x_rounds!.value).toBe(1);
    const empty = roundMetrics('x', [[]]);
    expect(empty.x_all_median!.value).toBeNaN();
    expect(empty.x_all_max!.value).toBeNaN();
    expect(empty.x_rounds!.value).toBe(0);
  });
});

describe('bench membership: ratio', () => {
  it('divides ours by theirs, rounded to 3 places', () => {
    expect(ratio(3000, 6000)).toBe(0.5);
    expect(ratio(1, 3)).toBe(0.333);
  });
  it('is NaN when either side is missing, zero (theirs) or not finite', () => {
    expect(ratio(undefined, 5)).toBeNaN();
    expect(ratio(5, undefined)).toBeNaN();
    expect(ratio(5, 0)).toBeNaN();
    expect(ratio(NaN, 5)).toBeNaN();
    expect(ratio(5, Infinity)).toBeNaN();
  });
});

describe('bench membership: false accusations', () => {
  const ev = (member: string, event: string) => ({ observer: 'n1', member, event, at: 0 });
  it('keeps suspect/dead/failed events about members never killed', () => {
    const events = [ev('n5', 'suspect'), ev('n5', 'dead'), ev('n3', 'suspect'), ev('n4', 'join'), ev('n2', 'dead'), ev('n6', 'alive')];
    expect(falseAccusations(events, new Set(['n5']))).toEqual([ev('n3', 'suspect'), ev('n2', 'dead')]);
  });
});

describe('bench membership: idle rates', () => {
  it('averages per-node deltas over the window and adds the seal overhead per packet', () => {
    const before = new Map([
      ['a', { bytesOut: 100, packetsOut: 10, pushPulls: 0 }],
      ['b', { bytesOut: 0, packetsOut: 0, pushPulls: 1 }],
    ]);
    const after = new Map([
      ['a', { bytesOut: 300, packetsOut: 30, pushPulls: 1 }],
      ['b', { bytesOut: 200, packetsOut: 20, pushPulls: 1 }],
      ['c', { bytesOut: 999, packetsOut: 99, pushPulls: 9 }], // absent before: left out
    ]);
    const r = idleRates(before, after, 10, 40);
    expect(r.nodes).toBe(2);
    expect(r.payloadBytesPerS).toBe(20); // (200 + 200) / 2 / 10
    expect(r.packetsPerS).toBe(2);
    expect(r.wireBytesPerS).toBe(100); // 20 + 2 packets/s * 40 B
    expect(r.pushPullsPerS).toBe(0.05);
  });
  it('is NaN with no node read twice', () => {
    expect(idleRates(new Map(), new Map(), 10, 40).payloadBytesPerS).toBeNaN();
  });
});

describe('bench membership: plan', () => {
  it('quick mode runs 3 rounds and a 30 s idle window (one push-pull period) at the largest size only', () => {
    expect(planFor(5, 32, true)).toEqual({ rounds: 3, idleWindowMs: 0 });
    expect(planFor(32, 32, true)).toEqual({ rounds: 3, idleWindowMs: 30_000 });
    expect(planFor(32, 32, false).idleWindowMs).toBe(60_000);
    expect(planFor(5, 32, false).rounds).toBeGreaterThan(planFor(32, 32, false).rounds);
  });
});

describe('bench proc-cluster: log and status predicates', () => {
  it('parses the node log lines about members, ignores everything else', () => {
    const line = '{"level":30,"time":"2026-11-25T09:51:04.046Z","name":"p1","node":"p1","member":"p2","event":"suspect","address":"127.0.3.202:9999","incarnation":3,"msg":"member suspect"}';
    expect(parseMemberLogLine('p1', line)).toEqual({ observer: 'p1', member: 'p2', event: 'suspect', at: Date.parse('2026-11-25T09:51:04.046Z') });
    expect(parseMemberLogLine('p1', '{"level":30,"msg":"node is ACTIVE","members":1}')).toBeUndefined();
    expect(parseMemberLogLine('p1', '{"member": not json')).toBeUndefined();
  });

  it('checks lifecycle and SWIM states of named members', () => {
    const s: NodeStatus = {
      name: 'n1',
      state: 'ACTIVE',
      gossip: {},
      members: [
        { name: 'n1', state: 'ACTIVE', swimState: 'alive', incarnation: 1 },
        { name: 'n2', state: 'FAILED', swimState: 'dead', incarnation: 1 },
      ],
    };
    expect(allInState(['n2'], 'FAILED')(s)).toBe(true);
    expect(allInState(['n1', 'n2'], 'ACTIVE')(s)).toBe(false);
    expect(allInState(['n3'], 'FAILED')(s)).toBe(false);
    expect(allInSwimState(['n1'], 'alive')(s)).toBe(true);
  });
});

describe('bench proc-cluster: TCP bytes from ss', () => {
  const ss = [
    '0      0      127.0.3.1:9999   127.0.3.2:40000',
    '\t cubic wscale:7,7 rto:204 bytes_sent:1000 bytes_acked:1000 bytes_received:500',
    '0      0      127.0.3.2:40000   127.0.3.1:9999',
    '\t cubic bytes_sent:500 bytes_received:1000',
    '0      0      127.0.3.3:10080   127.0.0.1:5555',
    '\t cubic bytes_sent:99999',
    '0      0      127.0.213.1:7946   127.0.213.2:1234',
    '\t cubic bytes_sent:77777',
    '0      0      127.0.3.4:10000   127.0.3.5:41000',
    '\t cubic bytes_acked:0',
  ].join('\n');
  it('keeps our node-to-node stream sockets (both ends) and skips HTTP and other addresses', () => {
    const m = parseSsBytesSent(ss, '127.0.3.', [9999, 10000]);
    expect([...m.entries()]).toEqual([
      ['127.0.3.1:9999 127.0.3.2:40000', 1000],
      ['127.0.3.2:40000 127.0.3.1:9999', 500],
      ['127.0.3.4:10000 127.0.3.5:41000', 0],
    ]);
  });
  it('sums per-socket growth; a new socket counts from zero', () => {
    const before = new Map([['a', 100], ['b', 50]]);
    const after = new Map([['a', 300], ['c', 40]]);
    expect(bytesSentBetween(before, after)).toBe(240);
  });
});

describe('bench result shape', () => {
  it('writes <out>/<scenario>.json with scenario, machine, date, metrics and peers', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-shape-'));
    try {
      const { path } = writeResult(dir, 'membership-detection', { n5_detection_all_median: { value: 4000, unit: 'ms' } }, { serf: { metrics: {} } });
      const parsed = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
      expect(path).toBe(join(dir, 'membership-detection.json'));
      expect(Object.keys(parsed).sort()).toEqual(['date', 'machine', 'metrics', 'peers', 'scenario']);
      expect(parsed.scenario).toBe('membership-detection');
      expect(parsed.metrics).toEqual({ n5_detection_all_median: { value: 4000, unit: 'ms' } });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the runner knows both membership scenarios', () => {
    expect(Object.keys(SCENARIOS)).toEqual(expect.arrayContaining(['membership-detection', 'membership-dissemination']));
  });
});
