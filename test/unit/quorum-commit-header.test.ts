// Commit notices are read from their header when they push a configuration the receiver already
// holds (most of them while a large cluster forms): the header must be exactly what the sender
// wrote, and anything else must fall back to a full parse (undefined), never to a guess.
import { expect, it } from 'vitest';
import { toJsonPayload } from '../../src/rpc/json.js';
import { commitHeader } from '../../src/quorum/reconfig-messages.js';

it('reads by and epoch from the start of a notice and refuses any other shape', () => {
  const voters = Array.from({ length: 500 }, (_, i) => ({ name: `n${i}`, role: 'hybrid' }));
  expect(commitHeader(toJsonPayload({ by: 'node-7.a:b', epoch: 12, voters, removed: [], id: '12/n1' }))).toEqual({ by: 'node-7.a:b', epoch: 12 });
  // Other key orders, names the pattern does not cover, non-numbers and garbage: parse it whole.
  expect(commitHeader(toJsonPayload({ epoch: 12, by: 'n1', voters }))).toBeUndefined();
  expect(commitHeader(toJsonPayload({ by: 'n "1"', epoch: 12, voters }))).toBeUndefined();
  expect(commitHeader(toJsonPayload({ by: 'n1', epoch: '12', voters }))).toBeUndefined();
  expect(commitHeader(toJsonPayload({ by: 'n1', epoch: -1, voters }))).toBeUndefined();
  expect(commitHeader(new Uint8Array([0xff, 0x00, 0x7b]))).toBeUndefined();
  expect(commitHeader(new Uint8Array(0))).toBeUndefined();
});
