// The sync benchmarks' accounting: the counting relay sees every byte of real TLS streams, the
// per-layer split adds up, and the y-protocols comparison encodes what y-protocols really sends.
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { startPair, type NodePair } from '../../bench/sync/harness.js';
import { snap } from '../../bench/sync/layers.js';
import { inSync, measure, partition, quiet, reconnect } from '../../bench/sync/measure.js';
import * as yp from '../../bench/sync/yprotocols.js';

// Addresses reserved for this test (the benchmarks use 127.0.9.1-4).
const HOSTS: [string, string, string, string] = ['127.0.9.21', '127.0.9.22', '127.0.9.23', '127.0.9.24'];

describe('sync benchmark harness', () => {
  let pair: NodePair | undefined;
  afterEach(async () => {
    await pair?.close();
    pair = undefined;
  });

  it('counts every byte of a replicated write on real TLS sockets, layer by layer', async () => {
    pair = await startPair(HOSTS);
    const p = pair;
    const mem = p.a.service.memory('agent-x');
    await mem.addEpisode({ task: 't', outcome: 'o' }); // handshakes, first push
    p.b.service.antiEntropyWith(p.a.name);
    await quiet(p);
    const id = mem.list()[0]!.id;
    const d = await measure(p, () => mem.increment(id, 'n'));
    await inSync(p, 'test');
    // One update frame out, one ack frame back; TLS 1.3 adds 22 bytes per record (5 header, 1 type, 16 tag).
    expect(d.framesA).toBe(1);
    expect(d.framesB).toBe(1);
    expect(d.tcpA - d.rpcA).toBe(4);
    expect(d.wireAB - d.tcpA).toBe(22);
    expect(d.wireBA - d.tcpB).toBe(22);
    expect(d.syncA).toBeGreaterThan(p.a.localUpdateBytes.at(-1)!);
    expect(snap(p).wireAB).toBeGreaterThan(0);
  });

  it('a write while partitioned is admitted without the peer (catch-up benchmarks), and anti-entropy brings it', async () => {
    pair = await startPair(HOSTS);
    const p = pair;
    const mem = p.a.service.memory('agent-y');
    const id = await mem.addEpisode({ task: 't', outcome: 'o' });
    p.b.service.antiEntropyWith(p.a.name);
    await quiet(p);
    partition(p);
    // The stub gate asks for no ack while partitioned: the write must resolve, not time out.
    await mem.increment(id, 'n');
    expect(p.b.service.memory('agent-y').get(id)?.counters.n ?? 0).toBe(0);
    reconnect(p);
    p.b.service.antiEntropyWith(p.a.name);
    await inSync(p, 'after the partition');
    expect(p.b.service.memory('agent-y').get(id)?.counters.n).toBe(1);
  });

  it('y-protocols step2 between in-sync documents still carries the delete set', () => {
    const a = new Y.Doc();
    const m = a.getMap('m');
    for (let i = 0; i < 50; i++) m.set('k', i); // 49 overwritten values: deletes
    const b = new Y.Doc();
    Y.applyUpdate(b, Y.encodeStateAsUpdate(a));
    const round = yp.pullRound(b, a, false);
    expect(round.messages).toBe(2);
    const step2 = yp.step2For(a, yp.step1(b));
    expect(step2.byteLength).toBeGreaterThan(4); // not just an empty update
    yp.applyMessage(b, step2);
    expect(b.getMap('m').get('k')).toBe(49);
    expect(yp.onStream(10, 2, 22)).toBe(10 + 2 * 26);
  });
});
