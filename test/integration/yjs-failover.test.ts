// A stock y-websocket client through node failures (real processes on 127.0.18.11-13):
// SIGKILL the node it is connected to, the client reconnects to another node and nothing that
// was echoed to it (stored by a majority) is lost; on a node left without quorum its edits are
// not applied and it is told "no quorum", and they upload once it reconnects to a writable node.
// Then a client token signed with a key that rotation removed stops working, live sessions too.
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { describeResult, runTri, sleep, useStartedCluster, waitFor, type TriCluster } from './lib/index.js';
import { stockClient, synced, updateDoc, upgradeStatus, type StockClient } from './lib/yjs-client.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ADDRESSES = ['127.0.18.11', '127.0.18.12', '127.0.18.13'];
let cluster!: TriCluster;
useStartedCluster(() => ({ addresses: ADDRESSES, profile: 'lan' }), (c) => (cluster = c));

async function token(args: string[] = [], keyFile = cluster.keyFile): Promise<string> {
  const r = await runTri(['token', 'create', ...args, '--key-file', keyFile]);
  expect(r.code, describeResult(r)).toBe(0);
  return r.stdout.trim();
}

/** A fresh client's view of the document on `host`. */
async function fetchDoc(host: string, room: string, tok: string): Promise<Y.Doc> {
  const c = stockClient(`ws://${host}:10080/yjs/doc`, room, { token: tok });
  try {
    await synced(c);
    return c.doc;
  } finally {
    c.destroy();
  }
}

describe('y-websocket clients through failures', () => {
  it('SIGKILL of the client\'s node: it reconnects to another node and loses nothing that was echoed; without quorum it is told and its edits wait', async () => {
    const tok = await token();
    const urls = ADDRESSES.map((a) => `ws://${a}:10080/yjs/doc`);
    const c: StockClient = stockClient(urls[0]!, 'failover', { token: tok });
    let next = 1;
    // The application's failover: on a close, point the stock client at the next node.
    c.provider.on('connection-close', () => {
      c.provider.serverUrl = urls[next % urls.length]!;
    });
    try {
      await synced(c);
      const text = c.doc.getText('t');
      for (let i = 0; i < 50; i++) text.insert(text.length, `${i},`);
      await c.waitEchoed();
      const echoed = Y.mergeUpdates(c.received);
      // Edits in flight while the node dies: some may not be echoed; those must not be counted on.
      for (let i = 50; i < 60; i++) text.insert(text.length, `${i},`);
      cluster.node('n1').signal('SIGKILL');
      await waitFor('the client to reconnect and sync elsewhere', async () => ({ ok: c.provider.synced && c.provider.serverUrl === urls[1], value: undefined, detail: `synced=${c.provider.synced} url=${c.provider.serverUrl}` }), { timeoutMs: 20_000, intervalMs: 100 });
      // Everything echoed before the kill is on both survivors; so is what was in flight (the
      // client re-sent it in its SyncStep2, or n1 had pushed it before it died).
      for (const host of ADDRESSES.slice(1)) {
        await waitFor(`the client's text on ${host}`, async () => {
          const there = await fetchDoc(host, 'failover', tok);
          expect(Y.snapshotContainsUpdate(Y.snapshot(updateDoc(Y.encodeStateAsUpdate(there))), echoed), `on ${host}`).toBe(true);
          return { ok: there.getText('t').toString() === text.toString(), value: undefined, detail: there.getText('t').toString() };
        }, { timeoutMs: 10_000, intervalMs: 300 });
      }

      // n3 gone too: n2 alone has no quorum. Its client's edit is refused with "no quorum".
      cluster.node('n3').signal('SIGKILL');
      await waitFor('n2 read-only', async () => {
        const s = await cluster.node('n2').status();
        return { ok: s?.quorum?.writable === false, value: undefined, detail: JSON.stringify(s?.quorum) };
      }, { timeoutMs: 30_000, intervalMs: 300 });
      const mark = c.localCount();
      text.insert(text.length, 'while-read-only,');
      await waitFor('the no-quorum notice', async () => ({ ok: c.denied.some((d) => /no quorum/.test(d)), value: undefined, detail: JSON.stringify(c.denied) }), { timeoutMs: 10_000, intervalMs: 100 });
      const s2 = await cluster.node('n2').status();
      expect(s2?.state).not.toBe('FAILED');

      // n1 and n3 back: the client's edit uploads when it reconnects (to a writable node).
      await cluster.restart('n1', 40_000);
      await cluster.restart('n3', 40_000);
      await waitFor('n2 writable again', async () => ({ ok: (await cluster.node('n2').status())?.quorum?.writable === true, value: undefined }), { timeoutMs: 40_000, intervalMs: 300 });
      next = 2;
      c.provider.disconnect();
      c.provider.serverUrl = urls[2]!;
      c.provider.connect();
      await c.waitEchoed(20_000, mark).catch((err: Error) => {
        throw new Error(`${err.message}\nclient: synced=${c.provider.synced} url=${c.provider.serverUrl} denied=${JSON.stringify(c.denied)} closes=${JSON.stringify(c.closes)}`);
      });
      const after = await fetchDoc(ADDRESSES[0]!, 'failover', tok);
      expect(after.getText('t').toString()).toContain('while-read-only,');
    } finally {
      c.destroy();
    }
  }, 180_000);

  it('a token signed by a key that rotation removed is refused (401), and sessions on it are closed with 4401; tokens of the new key work', async () => {
    const live = cluster.running[0]!;
    const oldTok = await token();
    const url = `ws://${live.address}:10080/yjs/doc/rotation`;
    const held = stockClient(`ws://${live.address}:10080/yjs/doc`, 'rotation', { token: oldTok });
    try {
      await synced(held);
      const gen = await runTri(['keys', 'generate']);
      const newKey = join(cluster.dir, 'new.key');
      writeFileSync(newKey, gen.stdout, { mode: 0o600 });
      for (const op of ['install', 'use']) {
        const r = await cluster.cli(['keys', op, newKey, '--at', live.address]);
        expect(r.code, describeResult(r)).toBe(0);
      }
      // Rotated to the new key, the old key still installed: the old token still works.
      expect((await upgradeStatus(`${url}?token=${oldTok}`)).status).toBe(101);
      const r = await runTri(['keys', 'remove', cluster.keyFile, '--at', live.address, '--key-file', newKey]);
      expect(r.code, describeResult(r)).toBe(0);
      const refused = await upgradeStatus(`${url}?token=${oldTok}`);
      expect(refused.status).toBe(401);
      expect(refused.body).toMatch(/does not hold/);
      await waitFor('the live session closed with 4401', async () => ({ ok: held.closes.some((x) => x.code === 4401), value: undefined, detail: JSON.stringify(held.closes) }), { timeoutMs: 15_000, intervalMs: 200 });
      await sleep(200);
      const fresh = await token([], newKey);
      expect((await upgradeStatus(`${url}?token=${fresh}`)).status).toBe(101);
    } finally {
      held.destroy();
    }
  }, 120_000);
});
