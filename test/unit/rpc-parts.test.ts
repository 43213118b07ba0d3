// RPC messages above one stream frame travel in parts (src/rpc/parts.ts): a 3 MiB request and a
// 5 MiB reply arrive whole; a reply above the 64 MiB message limit comes back as an OversizeError
// that names the cause (the connection stays up); a peer cannot make us buffer without limit.
import { expect, it } from 'vitest';
import { OversizeError } from '../../src/errors.js';
import { MAX_RPC_MESSAGE_BYTES } from '../../src/limits.js';
import { silentLogger } from '../../src/node/logger.js';
import { RpcEndpoint } from '../../src/rpc/endpoint.js';
import { PartAssembler, splitIntoParts } from '../../src/rpc/parts.js';
import { decodeRpcFrame } from '../../src/rpc/frames.js';
import { SimNetwork } from '../../src/sim/network.js';
import { createPrng } from '../../src/sim/prng.js';
import { SimWorld } from '../../src/sim/world.js';
import { MAX_FRAME_BYTES } from '../../src/transport/types.js';

it('large requests and replies travel in parts; an oversize reply is an OversizeError, and the connection stays usable', async () => {
  const world = new SimWorld();
  const network = new SimNetwork(world, createPrng('rpc-parts'));
  const endpoint = (ip: string, port: number): RpcEndpoint => new RpcEndpoint(network.streamTransport(ip, port), network.runtime(ip, silentLogger()), { secure: false });
  const serverIp = network.addHost();
  const server = endpoint(serverIp, 10000);
  server.handle('echo-size', 'client', (p) => new Uint8Array(p.byteLength + 2 * 1024 * 1024).fill(p[0] ?? 0));
  server.handle('too-big', 'client', () => new Uint8Array(MAX_RPC_MESSAGE_BYTES + 1));
  server.handle('small', 'client', () => new Uint8Array([7]));
  const client = endpoint(network.addHost(), 20000);
  const to = `${serverIp}:10000`;
  const reply = await world.runUntilSettled(client.call(to, 'echo-size', new Uint8Array(3 * 1024 * 1024).fill(9), 60_000), 60_000);
  expect(reply.byteLength).toBe(5 * 1024 * 1024);
  expect(reply.every((b) => b === 9)).toBe(true);
  const refused = await world.runUntilSettled(client.call(to, 'too-big', new Uint8Array(0), 60_000).catch((e: unknown) => e), 60_000);
  expect(refused).toBeInstanceOf(OversizeError);
  expect((refused as Error).message).toMatch(/above the 64 MiB an rpc message may carry; ask for less at once/);
  expect((await world.runUntilSettled(client.call(to, 'small', new Uint8Array(0), 60_000), 10_000))[0]).toBe(7);
  expect(server.stats.badFrames).toBe(0);
});

it('the assembler bounds what a peer can make it hold', () => {
  const whole = new Uint8Array(3 * MAX_FRAME_BYTES).fill(1);
  const parts = splitIntoParts(whole, 'request', 5).map((f) => decodeRpcFrame(f));
  for (const p of parts) expect(p.kind).toBe('part');
  // Over the message limit: refused, and what was held is dropped.
  const small = new PartAssembler(2 * MAX_FRAME_BYTES);
  expect(() => parts.forEach((p) => p.kind === 'part' && small.push(p))).toThrow(OversizeError);
  // Too many unfinished messages on one connection.
  const a = new PartAssembler();
  for (let id = 1; id <= 4; id++) a.push({ kind: 'part', dir: 'request', id, last: false, bytes: new Uint8Array(10) });
  expect(() => a.push({ kind: 'part', dir: 'request', id: 99, last: false, bytes: new Uint8Array(10) })).toThrow(/unfinished/);
  // A finished message frees its place and comes back whole.
  const b = new PartAssembler();
  let out: Uint8Array | undefined;
  for (const p of parts) if (p.kind === 'part') out = b.push(p);
  expect(out?.byteLength).toBe(whole.byteLength);
  expect(Buffer.from(out!).equals(Buffer.from(whole))).toBe(true);
});
