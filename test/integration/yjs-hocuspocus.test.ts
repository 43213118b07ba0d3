// Stock `@hocuspocus/provider` clients (npm, v4 wire, on Node with `ws`) on /hocuspocus of a
// 3-process cluster (127.0.18.51-53): two documents over one socket, the token in the Auth
// message, edits across nodes converge with a y-websocket client, hasUnsyncedChanges clears only
// once a majority stored the edit (then every edit is on another node), a bad token is denied per
// document, and a node without quorum leaves edits unsynced (SyncStatus 0).
import * as Y from 'yjs';
import WebSocket from 'ws';
import { describe, expect, it } from 'vitest';
import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider';
import { describeResult, useStartedCluster, waitFor, type TriCluster } from './lib/index.js';
import { stockClient, synced } from './lib/yjs-client.js';

const ADDRESSES = ['127.0.18.51', '127.0.18.52', '127.0.18.53'];
let cluster!: TriCluster;
useStartedCluster(() => ({ addresses: ADDRESSES, profile: 'lan' }), (c) => (cluster = c));

async function token(args: string[] = []): Promise<string> {
  const r = await cluster.cli(['token', 'create', ...args]);
  expect(r.code, describeResult(r)).toBe(0);
  return r.stdout.trim();
}

function socket(host: string): HocuspocusProviderWebsocket {
  return new HocuspocusProviderWebsocket({ url: `ws://${host}:10080/hocuspocus`, WebSocketPolyfill: WebSocket });
}

function provider(ws: HocuspocusProviderWebsocket, name: string, tok: string, denied?: string[]): HocuspocusProvider {
  const p = new HocuspocusProvider({ websocketProvider: ws, name, document: new Y.Doc(), token: tok, onAuthenticationFailed: ({ reason }) => denied?.push(reason) });
  p.attach();
  return p;
}

async function settled(p: HocuspocusProvider, timeoutMs = 15_000): Promise<void> {
  await waitFor(`${p.configuration.name} synced with no unsynced changes`, async () => ({ ok: p.synced && !p.hasUnsyncedChanges, value: undefined, detail: `synced=${p.synced} unsynced=${p.unsyncedChanges}` }), { timeoutMs, intervalMs: 50 });
}

describe('@hocuspocus/provider clients', () => {
  it('two documents over one socket; edits reach a y-websocket client on another node; unsynced clears only once a majority stored them', async () => {
    const tok = await token();
    const ws = socket(ADDRESSES[0]!);
    const notes = provider(ws, 'doc/notes', tok);
    const mem = provider(ws, 'agent/hocus', tok);
    const watcher = stockClient(`ws://${ADDRESSES[1]}:10080/yjs/doc`, 'notes', { token: tok });
    try {
      await Promise.all([settled(notes), settled(mem), synced(watcher)]);
      expect(notes.authorizedScope).toBe('read-write');
      for (let i = 0; i < 20; i++) notes.document.getText('t').insert(0, `h${i} `);
      await settled(notes);
      // Cleared means stored by a majority: at least one of the other two nodes holds every edit now.
      const holders = await Promise.all(ADDRESSES.slice(1).map(async (host) => {
        const c = stockClient(`ws://${host}:10080/yjs/doc`, 'notes', { token: tok });
        try {
          await synced(c);
          return c.doc.getText('t').toString();
        } finally {
          c.destroy();
        }
      }));
      expect(holders).toContain(notes.document.getText('t').toString());
      await waitFor('the y-websocket watcher converging', async () => ({ ok: watcher.doc.getText('t').toString() === notes.document.getText('t').toString(), value: undefined }), { timeoutMs: 10_000 });
      // And back: the watcher's edit reaches the hocuspocus client.
      watcher.doc.getText('t').insert(0, 'from y-websocket ');
      await waitFor('the watcher\'s edit in hocuspocus', async () => ({ ok: notes.document.getText('t').toString().startsWith('from y-websocket '), value: undefined }), { timeoutMs: 10_000 });
      // The agent memory document over the same socket follows the memory schema: an episode map is fine.
      mem.document.getMap('episodes').set('e1', 'not-an-episode-but-allowed-json');
      await settled(mem);
      const shown = await cluster.cli(['memory', 'digest', '--at', ADDRESSES[2]!, '--json']);
      expect(shown.code, describeResult(shown)).toBe(0);
    } finally {
      notes.destroy();
      mem.destroy();
      ws.destroy();
      watcher.destroy();
    }
  });

  it('a bad token or one for other documents is denied per document; a read-only token gets the readonly scope and its edits stay unsynced', async () => {
    const ws = socket(ADDRESSES[1]!);
    const denied: string[] = [];
    const bad = provider(ws, 'doc/secret', 'tri1.e30.AAAA', denied);
    const scoped = provider(ws, 'doc/secret', await token(['--docs', 'doc/public']), denied);
    const ro = provider(ws, 'doc/public', await token(['--read-only']));
    try {
      await waitFor('two denials', async () => ({ ok: denied.length >= 2, value: undefined, detail: JSON.stringify(denied) }), { timeoutMs: 10_000, intervalMs: 100 });
      expect(denied.join(' ')).toMatch(/does not decode|signature/);
      expect(denied.join(' ')).toMatch(/does not cover doc\/secret/);
      expect(bad.isAuthenticated).toBe(false);
      await waitFor('read-only synced', async () => ({ ok: ro.synced, value: undefined }), { timeoutMs: 10_000, intervalMs: 100 });
      expect(ro.authorizedScope).toBe('readonly');
      ro.document.getText('t').insert(0, 'nope');
      await new Promise((r) => setTimeout(r, 1000));
      expect(ro.hasUnsyncedChanges).toBe(true);
    } finally {
      bad.destroy();
      scoped.destroy();
      ro.destroy();
      ws.destroy();
    }
  });

  it('on a node without quorum an edit stays unsynced (SyncStatus 0) and is not applied', async () => {
    const tok = await token();
    const ws = socket(ADDRESSES[2]!);
    const p = provider(ws, 'doc/quorum', tok);
    try {
      await settled(p);
      cluster.node('n1').signal('SIGKILL');
      cluster.node('n2').signal('SIGKILL');
      await waitFor('n3 read-only', async () => ({ ok: (await cluster.node('n3').status())?.quorum?.writable === false, value: undefined }), { timeoutMs: 30_000, intervalMs: 300 });
      p.document.getText('t').insert(0, 'no majority');
      await new Promise((r) => setTimeout(r, 1500));
      expect(p.hasUnsyncedChanges).toBe(true);
      const c = stockClient(`ws://${ADDRESSES[2]}:10080/yjs/doc`, 'quorum', { token: tok });
      try {
        await synced(c);
        expect(c.doc.getText('t').toString()).toBe('');
      } finally {
        c.destroy();
      }
    } finally {
      p.destroy();
      ws.destroy();
    }
  }, 90_000);
});
