// Hostile Yjs clients against a real node process (127.0.18.21, one-node cluster, 1 MiB document
// size limit): garbage, text, truncated and unknown frames, oversized frames and documents, 2,000
// connections opened and dropped, and a client that never reads. Each is refused or closed; the
// node stays ACTIVE, its memory stays bounded, and a well-behaved stock client connected all along
// keeps editing with its edits echoed.
import { readFileSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import * as encoding from 'lib0/encoding';
import * as Y from 'yjs';
import { describeResult, sleep, useStartedCluster, waitFor, type TriCluster } from './lib/index.js';
import { stockClient, synced, type StockClient } from './lib/yjs-client.js';

const HOST = '127.0.18.21';
const LIMIT = 1024 * 1024;
let cluster!: TriCluster;
useStartedCluster(() => ({ addresses: [HOST], profile: 'lan', extraArgs: () => ['--doc-size-limit', String(LIMIT)] }), (c) => (cluster = c));

let token = '';
async function getToken(): Promise<string> {
  if (token) return token;
  const r = await cluster.cli(['token', 'create']);
  expect(r.code, describeResult(r)).toBe(0);
  return (token = r.stdout.trim());
}

/** Opens a raw ws connection to a document; resolves with the close code once the node closes it. */
async function rawSession(room: string, send: (ws: WebSocket) => void): Promise<number> {
  const ws = new WebSocket(`ws://${HOST}:10080/yjs/doc/${room}?token=${await getToken()}`);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the node did not close the connection within 10 s')), 10_000);
    ws.on('open', () => send(ws));
    ws.on('error', () => undefined);
    ws.on('close', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

function frame(write: (e: encoding.Encoder) => void): Uint8Array {
  const e = encoding.createEncoder();
  write(e);
  return encoding.toUint8Array(e);
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

interface YjsStatus {
  state: string;
  yjs?: { clients: number; documents: number; connections: number };
}

async function status(): Promise<YjsStatus> {
  return (await cluster.node('n1').status()) as unknown as YjsStatus;
}

async function stillServing(good: StockClient, tag: string): Promise<void> {
  const mark = good.localCount();
  good.doc.getText('t').insert(0, tag);
  await good.waitEchoed(10_000, mark);
  expect((await status()).state).toBe('ACTIVE');
}

describe('hostile Yjs clients', () => {
  it('garbage, text, truncated, unknown and oversized frames are closed; a document past the size limit is refused; a good client is unaffected', async () => {
    const good = stockClient(`ws://${HOST}:10080/yjs/doc`, 'good', { token: await getToken() });
    try {
      await synced(good);
      const garbage = Buffer.from(Array.from({ length: 64 }, (_, i) => (i * 97 + 13) & 0xff));
      expect(await rawSession('g1', (ws) => ws.send(garbage))).toBe(4400);
      expect(await rawSession('g2', (ws) => ws.send('hello'))).toBe(4400);
      // An Update that says 100 bytes follow, then stops after 3.
      expect(await rawSession('g3', (ws) => ws.send(new Uint8Array([0, 2, 100, 1, 2, 3])))).toBe(4400);
      expect(await rawSession('g4', (ws) => ws.send(new Uint8Array([9])))).toBe(4400);
      // A well-framed Update whose bytes are not a Yjs update.
      expect(await rawSession('g5', (ws) => ws.send(frame((e) => {
        encoding.writeVarUint(e, 0);
        encoding.writeVarUint(e, 2);
        encoding.writeVarUint8Array(e, new Uint8Array([255, 255, 255, 255, 1]));
      })))).toBe(4400);
      // An awareness state that is not JSON (other clients would choke on it).
      expect(await rawSession('g6', (ws) => ws.send(frame((e) => {
        encoding.writeVarUint(e, 1);
        encoding.writeVarUint8Array(e, frame((a) => {
          encoding.writeVarUint(a, 1);
          encoding.writeVarUint(a, 7);
          encoding.writeVarUint(a, 1);
          encoding.writeVarString(a, '{not json');
        }));
      })))).toBe(4400);
      // A frame above the limit: ws refuses it (1009, message too big) before it is buffered whole.
      expect(await rawSession('g7', (ws) => ws.send(new Uint8Array(2 * LIMIT)))).toBe(1009);
      await stillServing(good, 'after garbage ');

      // Grow a document to the size limit through a stock client: the update that passes it is refused whole.
      const big = stockClient(`ws://${HOST}:10080/yjs/doc`, 'big', { token: await getToken() });
      try {
        await synced(big);
        big.doc.getText('t').insert(0, 'x'.repeat(600 * 1024));
        await big.waitEchoed();
        big.doc.getText('t').insert(0, 'y'.repeat(600 * 1024));
        await waitFor('the size refusal', async () => ({ ok: big.closes.some((c) => c.code === 4413), value: undefined, detail: JSON.stringify(big.closes) }), { timeoutMs: 10_000, intervalMs: 100 });
        expect(big.denied.join(' ')).toMatch(/size limit/);
      } finally {
        big.destroy();
      }
      const probe = stockClient(`ws://${HOST}:10080/yjs/doc`, 'big', { token: await getToken() });
      try {
        await synced(probe);
        expect(probe.doc.getText('t').length).toBe(600 * 1024);
      } finally {
        probe.destroy();
      }
      await stillServing(good, 'after oversize ');
    } finally {
      good.destroy();
    }
  });

  it('an update whose dependencies the node lacks is not echoed (nothing of it is stored yet); once they arrive both are applied', async () => {
    const src = new Y.Doc();
    const parts: Uint8Array[] = [];
    src.on('update', (u: Uint8Array) => parts.push(u));
    src.getText('t').insert(0, 'a');
    src.getText('t').insert(1, 'b');
    const [u1, u2] = parts as [Uint8Array, Uint8Array];
    const ws = new WebSocket(`ws://${HOST}:10080/yjs/doc/pending?token=${await getToken()}`);
    const echoes: string[] = [];
    ws.on('message', (m: Buffer) => {
      if (m[0] === 0 && m[1] === 2) echoes.push(Buffer.from(m).toString('hex'));
    });
    await new Promise<void>((resolve) => ws.on('open', () => resolve()));
    const asUpdate = (u: Uint8Array): Uint8Array => frame((e) => {
      encoding.writeVarUint(e, 0);
      encoding.writeVarUint(e, 2);
      encoding.writeVarUint8Array(e, u);
    });
    ws.send(asUpdate(u2));
    await sleep(1000);
    expect(echoes).toEqual([]);
    ws.send(asUpdate(u1));
    await waitFor('the echo of the first update', async () => ({ ok: echoes.includes(Buffer.from(asUpdate(u1)).toString('hex')), value: undefined }), { timeoutMs: 5000, intervalMs: 50 });
    expect(echoes).not.toContain(Buffer.from(asUpdate(u2)).toString('hex'));
    ws.close();
    const probe = stockClient(`ws://${HOST}:10080/yjs/doc`, 'pending', { token: await getToken() });
    try {
      await synced(probe);
      expect(probe.doc.getText('t').toString()).toBe('ab');
    } finally {
      probe.destroy();
    }
  });

  it('hocuspocus endpoint: garbage closes the socket, a bad token is denied without touching the document, unauthenticated documents are bounded', async () => {
    const open = (): Promise<WebSocket> =>
      new Promise((resolve, reject) => {
        const ws = new WebSocket(`ws://${HOST}:10080/hocuspocus`);
        ws.on('open', () => resolve(ws));
        ws.on('error', reject);
      });
    const closed = (ws: WebSocket): Promise<number> => new Promise((resolve) => ws.on('close', (code) => resolve(code)));
    const g = await open();
    const gClosed = closed(g);
    g.send(new Uint8Array([200, 1, 2])); // a document name longer than the frame
    expect(await gClosed).toBe(4400);

    // A bad token: PermissionDenied for that document (auth type 2, sub 1), the socket stays.
    const d = await open();
    const replies: Uint8Array[] = [];
    d.on('message', (m: Buffer) => replies.push(new Uint8Array(m)));
    d.send(frame((e) => {
      encoding.writeVarString(e, 'doc/h1');
      encoding.writeVarUint(e, 2);
      encoding.writeVarUint(e, 0);
      encoding.writeVarString(e, 'tri1.e30.AAAA');
    }));
    await waitFor('the denial', async () => ({ ok: replies.length > 0, value: undefined }), { timeoutMs: 5000, intervalMs: 50 });
    expect([...replies[0]!.subarray(0, 9)]).toEqual([6, ...Buffer.from('doc/h1'), 2, 1]);
    expect(d.readyState).toBe(WebSocket.OPEN);

    // 101 documents waiting for authentication on one socket: closed.
    const dClosed = closed(d);
    for (let i = 0; i < 101; i++) d.send(frame((e) => {
      encoding.writeVarString(e, `doc/p${i}`);
      encoding.writeVarUint(e, 0);
      encoding.writeVarUint(e, 0);
      encoding.writeVarUint8Array(e, new Uint8Array([0]));
    }));
    expect(await dClosed).toBe(4400);
    expect((await status()).state).toBe('ACTIVE');
  });

  it('2,000 connections opened and dropped, and a client that never reads: closed, memory bounded, the node ACTIVE, a good client unaffected', async () => {
    const tok = await getToken();
    const good = stockClient(`ws://${HOST}:10080/yjs/doc`, 'busy', { token: tok });
    try {
      await synced(good);
      const pid = cluster.node('n1').pid!;
      const rssBefore = rssMb(pid);
      for (let batch = 0; batch < 20; batch++) {
        await Promise.all(
          Array.from({ length: 100 }, (_, i) =>
            new Promise<void>((resolve) => {
              const ws = new WebSocket(`ws://${HOST}:10080/yjs/doc/churn-${i % 10}?token=${tok}`);
              ws.on('open', () => {
                // Half say something first (a SyncStep1 for an empty state), half just vanish.
                if (i % 2 === 0) ws.send(new Uint8Array([0, 0, 1, 0]));
                ws.terminate();
                resolve();
              });
              ws.on('error', () => resolve());
            }),
          ),
        );
      }
      await waitFor('every dropped connection gone', async () => {
        const s = await status();
        return { ok: s.yjs?.connections === 1 && s.yjs.documents === 1, value: undefined, detail: JSON.stringify(s.yjs) };
      }, { timeoutMs: 15_000, intervalMs: 200 });
      await stillServing(good, 'after churn ');

      // A client that completes the upgrade and then never reads a byte.
      const stuck: Socket = netConnect(10080, HOST);
      await new Promise<void>((resolve) => stuck.once('connect', () => resolve()));
      stuck.write(`GET /yjs/doc/busy?token=${tok} HTTP/1.1\r\nHost: ${HOST}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
      stuck.pause();
      stuck.on('error', () => undefined);
      await waitFor('the stuck client connected', async () => ({ ok: (await status()).yjs?.connections === 2, value: undefined }), { timeoutMs: 5000, intervalMs: 100 });
      // The good client's awareness (relayed to every client of the document, the stuck one
      // included) piles up in the stuck client's buffers: 400 states of 60 KB.
      const pad = 'p'.repeat(60 * 1024);
      for (let i = 0; i < 400; i++) {
        good.provider.awareness.setLocalStateField('pad', `${i}${pad}`);
        if (i % 20 === 0) await sleep(20);
      }
      await waitFor('the stuck client closed by the node', async () => ({ ok: (await status()).yjs?.connections === 1, value: undefined, detail: JSON.stringify((await status()).yjs) }), { timeoutMs: 20_000, intervalMs: 200 });
      stuck.destroy();
      good.provider.awareness.setLocalState(null);
      await stillServing(good, 'after the stuck client ');
      const rssAfter = rssMb(pid);
      // Bounded: a leak of the 2,000 sessions or of the stuck client's 24 MB would show here.
      expect(rssAfter - rssBefore, `RSS ${rssBefore.toFixed(0)} -> ${rssAfter.toFixed(0)} MB`).toBeLessThan(120);
    } finally {
      good.destroy();
    }
  }, 120_000);
});
