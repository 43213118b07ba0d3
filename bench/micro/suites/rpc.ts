// RPC frames, the envelope of every stream message between nodes: a sync push of one episode
// (a notification), a client's memory.add request and its response.
import { encodeSyncEnvelope, decodeSyncEnvelope } from '../../../src/memory/sync-envelope.js';
import { decodeRpcFrame, encodeRpcFrame, type RpcFrame } from '../../../src/rpc/frames.js';
import { toJsonPayload } from '../../../src/rpc/json.js';
import { METHODS } from '../../../src/rpc/methods.js';
import { episodeInput, episodeUpdates, rngFor } from '../gen.js';
import { consume, cycling, type MicroSuite } from '../suite.js';

/** The method name sync notifications carry (memory-service.ts SYNC_METHOD). */
const SYNC_METHOD = 'sync';

export const suite: MicroSuite = {
  name: 'rpc',
  title: 'RPC frame encode/decode (sync push of one episode, memory.add request and response)',
  build() {
    const rng = rngFor('rpc');
    const updates = episodeUpdates(256, 16, 'rpc-episodes');
    const pushes: RpcFrame[] = updates.map((u) => ({ kind: 'notify', method: SYNC_METHOD, payload: encodeSyncEnvelope('node-1', u.update) }));
    const requests: RpcFrame[] = Array.from({ length: 256 }, (_, i) => ({
      kind: 'request',
      id: 1_000 + i,
      method: METHODS.memoryAdd,
      payload: toJsonPayload({ agent: `bench-${i % 64}`, ...episodeInput(rng, i) }),
    }));
    // The answer is the stored episode as JSON (memory-rpc.ts returns mem.get(id)).
    const responses: RpcFrame[] = requests.map((_, i) => {
      const e = episodeInput(rng, i);
      const episode = { id: i.toString(16).padStart(16, '0'), task: e.task, outcome: e.outcome, node: 'node-1', createdAt: 1_700_000_000_000 + i, notes: e.note, tags: e.tags, fields: {}, counters: {}, conflicts: {} };
      return { kind: 'response', id: 1_000 + i, payload: toJsonPayload(episode) };
    });
    const pushBytes = Math.round(pushes.reduce((a, f) => a + encodeRpcFrame(f).length, 0) / pushes.length);
    const reqBytes = Math.round(requests.reduce((a, f) => a + encodeRpcFrame(f).length, 0) / requests.length);
    const nextPush = cycling(pushes);
    const nextUpdate = cycling(updates);
    const nextRequest = cycling(requests);
    const nextResponse = cycling(responses);
    const nextPushBytes = cycling(pushes.map(encodeRpcFrame));
    const nextRequestBytes = cycling(requests.map(encodeRpcFrame));
    const nextResponseBytes = cycling(responses.map(encodeRpcFrame));
    return {
      cases: [
        {
          name: `encode sync push (envelope + notify frame, ${pushBytes} B)`,
          fn: () => consume(encodeRpcFrame({ kind: 'notify', method: SYNC_METHOD, payload: encodeSyncEnvelope('node-1', nextUpdate().update) })),
        },
        {
          name: `decode sync push (notify frame + envelope, ${pushBytes} B)`,
          fn: () => {
            const f = decodeRpcFrame(nextPushBytes());
            if (f.kind === 'notify') consume(decodeSyncEnvelope(f.payload));
          },
        },
        { name: `encode memory.add request (${reqBytes} B)`, fn: () => consume(encodeRpcFrame(nextRequest())) },
        { name: `decode memory.add request (${reqBytes} B)`, fn: () => consume(decodeRpcFrame(nextRequestBytes())) },
        { name: 'encode memory.add response (the episode)', fn: () => consume(encodeRpcFrame(nextResponse())) },
        { name: 'decode memory.add response (the episode)', fn: () => consume(decodeRpcFrame(nextResponseBytes())) },
        { name: 'encode notify frame only', fn: () => consume(encodeRpcFrame(nextPush())) },
      ],
    };
  },
};
