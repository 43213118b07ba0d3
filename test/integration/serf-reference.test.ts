// The serf reference benchmark's pieces: the msgpack subset its RPC client speaks (pure), and a
// small real run against Debian's serf binary (skipped loudly when serf cannot be had).
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ensureSerf } from '../../bench/serf/ensure-serf.js';
import { decode, encode, NeedMoreData } from '../../bench/serf/msgpack.js';
import { runSerfMembership } from '../../bench/serf/serf-membership.js';

describe('serf msgpack subset', () => {
  it('round-trips the values serf RPC uses', () => {
    const value = { Command: 'members', Seq: 7, Big: 2 ** 40, Neg: -3, Ok: true, Nil: null, List: ['a', 'b'.repeat(40)] };
    expect(decode(encode(value)).value).toEqual(value);
  });

  it('asks for more data when a value is cut short', () => {
    const bytes = encode({ Seq: 1, Error: '' });
    expect(() => decode(bytes.subarray(0, bytes.length - 1))).toThrow(NeedMoreData);
    expect(decode(Buffer.concat([bytes, bytes])).next).toBe(bytes.length);
  });
});

const serf = await ensureSerf();
if (!serf.ok) console.warn(`SKIPPING serf reference run: ${serf.reason}`);

describe.skipIf(!serf.ok)('serf reference run', () => {
  it('measures detection, join dissemination and idle bytes for 4 agents, and leaves no agent running', async () => {
    const result = await runSerfMembership(serf.ok ? serf.path : '', { agents: 4, detectionRounds: 1, idleWindowMs: 2_000, timeoutMs: 30_000 });
    const m = result.metrics;
    // serf's lan profile: probe 1 s, suspicion >= 4 s, so detection takes seconds, not ms.
    expect(m.detection_all?.value).toBeGreaterThan(1_000);
    expect(m.detection_all?.value).toBeLessThan(30_000);
    expect(m.join_dissemination_all?.value).toBeLessThan(10_000);
    expect(m.idle_bytes_per_node_per_s?.value).toBeGreaterThan(0);
    expect(result.samples.detectionMs[0]).toHaveLength(3);
    expect(result.samples.joinMs[0]).toHaveLength(4);
    const running = execFileSync('ps', ['-eo', 'pid='], { encoding: 'utf8' }).split('\n').map(Number);
    expect(result.pids).toHaveLength(5);
    expect(result.pids.filter((pid) => running.includes(pid))).toEqual([]);
  }, 90_000);
});
