// The clients the Yjs benchmark drives (bench/yjs-clients.ts), one shape for every target: stock
// y-websocket providers, bare sockets that decode nothing (a cheap crowd), hocuspocus providers;
// and the reference servers' processes.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as Y from 'yjs';
import * as decoding from 'lib0/decoding';
import WebSocket from 'ws';
import { WebsocketProvider } from 'y-websocket';
import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider';
import { sleep } from '../quorum/cluster.js';

/** `baseline`: a cluster of another build (TRI_YJS_BENCH_BASELINE), for a before/after in one run. */
export type Target = 'trinity' | 'baseline' | 'y-websocket-server' | 'hocuspocus';

/** One client of any target, as the measurements drive it. */
export interface Client {
  doc: Y.Doc;
  synced(): boolean;
  destroy(): void;
  closes: number;
  /** Called with the map keys a document update the client receives sets (y-websocket: the echo of its own edit in the latency test). */
  onEcho?: (keys: string[]) => void;
}

export interface Endpoint {
  target: Target;
  /** A client of document `room` through server number `i` (trinity: node i mod 3). */
  client(room: string, i: number): Client;
  pids(): number[];
}

export function yClient(url: string, room: string, token?: string): Client {
  const doc = new Y.Doc();
  const p = new WebsocketProvider(url, room, doc, { WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket, params: token ? { token } : {}, disableBc: true });
  const c: Client = { doc, synced: () => p.synced, destroy: () => p.destroy(), closes: 0 };
  p.on('connection-close', () => c.closes++);
  // The writer's own update coming back (sync message, update): what the stock client's sync status waits for.
  p.on('status', (e: { status: string }) => {
    if (e.status !== 'connected' || !p.ws) return;
    p.ws.addEventListener('message', (ev: MessageEvent) => {
      const d = new Uint8Array(ev.data as ArrayBuffer);
      if (d[0] !== 0 || d[1] !== 2 || !c.onEcho) return;
      const dec = decoding.createDecoder(d);
      decoding.readVarUint(dec);
      decoding.readVarUint(dec);
      const keys: string[] = [];
      for (const s of Y.decodeUpdate(decoding.readVarUint8Array(dec)).structs) if (s instanceof Y.Item && s.parentSub) keys.push(s.parentSub);
      c.onEcho(keys);
    });
  });
  return c;
}

/** A bare WebSocket on a document: it receives what the server sends and decodes nothing (a cheap crowd member). */
export function rawClient(url: string): Client {
  const ws = new WebSocket(url);
  let open = false;
  const c: Client = { doc: new Y.Doc(), synced: () => open, destroy: () => ws.terminate(), closes: 0 };
  ws.on('open', () => (open = true));
  ws.on('close', () => c.closes++);
  ws.on('error', () => undefined);
  return c;
}

export function hClient(url: string, room: string): Client {
  const doc = new Y.Doc();
  const ws = new HocuspocusProviderWebsocket({ url, WebSocketPolyfill: WebSocket });
  const p = new HocuspocusProvider({ websocketProvider: ws, name: room, document: doc, token: 'x' });
  p.attach();
  const c: Client = {
    doc,
    synced: () => p.synced,
    destroy: () => {
      p.destroy();
      ws.destroy();
    },
    closes: 0,
  };
  p.on('close', () => c.closes++);
  return c;
}

export async function until(what: string, ok: () => boolean, timeoutMs: number): Promise<number> {
  const t0 = performance.now();
  while (!ok()) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(2);
  }
  return performance.now() - t0;
}

export const rssMb = (pid: number): number => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
};

/** A reference server (ref-server.ts) in its own process on `host`, resolved once it listens. */
export function startRef(kind: Exclude<Target, 'trinity' | 'baseline'>, host: string, port: number): Promise<ChildProcess> {
  const proc = spawn(process.execPath, [join(dirname(fileURLToPath(import.meta.url)), 'ref-server.js'), kind, host, String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  process.once('exit', () => proc.kill('SIGKILL'));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${kind} did not start`)), 15_000);
    proc.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('listening')) {
        clearTimeout(timer);
        resolve(proc);
      }
    });
    proc.once('exit', (code) => reject(new Error(`${kind} exited with ${code}`)));
  });
}

