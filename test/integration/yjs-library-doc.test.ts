// node.doc(name): the library's replicated Y.Doc, with three in-process nodes of an --insecure
// cluster on 127.0.18.31-33 (which also shows the Yjs endpoint taking no token there). A
// transact() resolves once a majority stored the change; every node holds it, and a stock
// y-websocket client connected to another node receives it at once.
import * as Y from 'yjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNode, type ClusterNode } from '../../src/index.js';
import { silentLogger } from '../../src/node/logger.js';
import { ConfigError } from '../../src/errors.js';
import { waitFor } from './lib/index.js';
import { stockClient, synced } from './lib/yjs-client.js';

const hosts = ['127.0.18.31', '127.0.18.32', '127.0.18.33'];
let nodes: ClusterNode[] = [];

beforeAll(async () => {
  for (const [i, bind] of hosts.entries()) {
    nodes.push(await startNode({ name: `l${i + 1}`, bind, insecure: true, join: i === 0 ? [] : [`${hosts[0]}:9999`], profile: 'local', logger: silentLogger() }));
  }
  await waitFor('3 voters, writable everywhere', async () => ({ ok: nodes.every((n) => n.members().filter((m) => m.state === 'ACTIVE').length === 3 && n.gate.verdict().writable && n.gate.voterConfig().voters.length === 3), value: undefined }), { timeoutMs: 30_000 });
});

afterAll(async () => {
  await Promise.all(nodes.map((n) => n.stop(100)));
  nodes = [];
});

describe('node.doc(name)', () => {
  it('transact resolves once a majority stored it; every node and a connected stock client (no token on an --insecure cluster) see it', async () => {
    const client = stockClient(`ws://${hosts[2]}:10080/yjs/doc`, 'board');
    try {
      await synced(client);
      const board = nodes[0]!.doc('board');
      const result = await board.transact((doc) => {
        doc.getMap('cards').set('c1', { title: 'write the README' });
        doc.getText('log').insert(0, 'created c1\n');
        return 'done';
      });
      expect(result).toBe('done');
      // Acknowledged by a majority: at least one other node already holds it.
      const holders = nodes.filter((n) => n.doc('board').doc.getMap('cards').has('c1')).length;
      expect(holders).toBeGreaterThanOrEqual(2);
      await waitFor('every node holding the card', async () => ({ ok: nodes.every((n) => n.doc('board').doc.getText('log').toString() === 'created c1\n'), value: undefined }), { timeoutMs: 10_000 });
      await waitFor('the client receiving it', async () => ({ ok: (client.doc.getMap('cards').get('c1') as { title?: string } | undefined)?.title === 'write the README', value: undefined }), { timeoutMs: 10_000 });
      // And the other way: a client's edit is in the library's document once echoed.
      client.doc.getText('log').insert(client.doc.getText('log').length, 'moved c1\n');
      await client.waitEchoed();
      const seen = nodes.filter((n) => n.doc('board').doc.getText('log').toString().includes('moved c1')).length;
      expect(seen).toBeGreaterThanOrEqual(2);
      const changes: Uint8Array[] = [];
      const off = nodes[1]!.doc('board').onChange((u) => changes.push(u));
      await nodes[0]!.doc('board').transact((doc) => doc.getMap('cards').delete('c1'));
      await waitFor('the change observed on l2', async () => ({ ok: changes.length > 0, value: undefined }), { timeoutMs: 10_000 });
      off();
      expect(Y.encodeStateVector(nodes[1]!.doc('board').doc).length).toBeGreaterThan(0);
    } finally {
      client.destroy();
    }
  });

  it('a quiet client stays connected past the stock client\'s 30 s liveness check (the node sends something every 15 s)', async () => {
    const c = stockClient(`ws://${hosts[1]}:10080/yjs/doc`, 'quiet');
    try {
      await synced(c);
      // No awareness state of its own: nothing of the client's comes back to keep it alive.
      c.provider.awareness.setLocalState(null);
      await new Promise((r) => setTimeout(r, 36_000));
      expect(c.closes).toEqual([]);
      expect(c.provider.wsconnected).toBe(true);
    } finally {
      c.destroy();
    }
  }, 60_000);

  it('a bad name is a ConfigError', () => {
    expect(() => nodes[0]!.doc('no/slashes')).toThrow(ConfigError);
    expect(() => nodes[0]!.doc('')).toThrow(ConfigError);
  });
});
