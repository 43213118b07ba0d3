// The stock y-websocket client (npm `y-websocket`, WebsocketProvider) on Node with `ws`, as the
// Yjs tests drive it. It only watches what the provider does: the frames it receives (to see
// which of its updates the node echoed, and awareness), the permission-denied reasons and the
// close codes it was given.
import * as Y from 'yjs';
import * as decoding from 'lib0/decoding';
import WebSocket from 'ws';
import { WebsocketProvider } from 'y-websocket';
import { waitFor } from './wait-for.js';

export interface StockClient {
  doc: Y.Doc;
  provider: WebsocketProvider;
  /** Updates the node sent this client (SyncStep2 and Update messages; echoes of its own among them). */
  received: Uint8Array[];
  denied: string[];
  closes: Array<{ code: number; reason: string }>;
  /** Local changes so far (a mark for waitEchoed). */
  localCount(): number;
  /** Waits until every local change of the client (from mark `from` on) came back from the node (its echo: stored by a majority). */
  waitEchoed(timeoutMs?: number, from?: number): Promise<void>;
  destroy(): void;
}

export interface ClientOptions {
  token?: string;
  /** Token as the subprotocol tri-token.<token> rather than in the query. */
  tokenAsProtocol?: boolean;
  connect?: boolean;
}

/** `url` is ws://HOST:PORT/yjs/doc or ws://HOST:PORT/yjs/agent; `room` the document's name. */
export function stockClient(url: string, room: string, opts: ClientOptions = {}): StockClient {
  const doc = new Y.Doc();
  const received: Uint8Array[] = [];
  const denied: string[] = [];
  const closes: Array<{ code: number; reason: string }> = [];
  // A ws subclass that records incoming sync updates before the provider reads them.
  class WatchedSocket extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols);
      this.on('message', (data: Buffer) => {
        const d = decoding.createDecoder(new Uint8Array(data));
        if (decoding.readVarUint(d) !== 0) return;
        const sub = decoding.readVarUint(d);
        if (sub === 1 || sub === 2) received.push(decoding.readVarUint8Array(d));
      });
    }
  }
  const provider = new WebsocketProvider(url, room, doc, {
    WebSocketPolyfill: WatchedSocket as unknown as typeof globalThis.WebSocket,
    params: opts.token && !opts.tokenAsProtocol ? { token: opts.token } : {},
    protocols: opts.token && opts.tokenAsProtocol ? [`tri-token.${opts.token}`] : [],
    disableBc: true,
    connect: opts.connect ?? true,
    maxBackoffTime: 500,
  });
  // The stock handler only console.warns the reason; keep it for the assertions (same decoding).
  provider.messageHandlers[2] = (_e, decoder) => {
    decoding.readVarUint(decoder);
    denied.push(decoding.readVarString(decoder));
  };
  provider.on('connection-close', (event) => {
    // null: the client closed it itself (disconnect(), or its 30 s liveness check).
    closes.push(event ? { code: event.code, reason: event.reason } : { code: -1, reason: 'closed by the client' });
  });
  const local: Uint8Array[] = [];
  doc.on('update', (u: Uint8Array, origin: unknown) => {
    if (origin !== provider) local.push(u);
  });
  return {
    doc,
    provider,
    received,
    denied,
    closes,
    localCount: () => local.length,
    async waitEchoed(timeoutMs = 15_000, from = 0) {
      await waitFor(
        'the node to echo every local change of the client',
        async () => {
          const mine = local.slice(from);
          const missing = mine.filter((u) => !covered(u, received)).length;
          return { ok: missing === 0, value: undefined, detail: `${missing} of ${mine.length} local updates not echoed` };
        },
        { timeoutMs, intervalMs: 100 },
      );
    },
    destroy() {
      provider.destroy();
    },
  };
}

/**
 * Whether the structs `update` inserted came back in `from` (by id range per client; an update
 * whose parents were never sent back still counts). Deletions are not compared.
 */
function covered(update: Uint8Array, from: readonly Uint8Array[]): boolean {
  const want = Y.parseUpdateMeta(update);
  const metas = from.map((u) => Y.parseUpdateMeta(u));
  for (const [client, start] of want.from) {
    const end = want.to.get(client)!;
    // Walk forward through received ranges of this client until [start, end) is covered.
    let at = start;
    let moved = true;
    while (at < end && moved) {
      moved = false;
      for (const m of metas) {
        const f = m.from.get(client);
        const t = m.to.get(client);
        if (f !== undefined && t !== undefined && f <= at && t > at) {
          at = t;
          moved = true;
        }
      }
    }
    if (at < end) return false;
  }
  return true;
}

/** A doc holding exactly `update` (gc off, so snapshots can be compared). */
export function updateDoc(update: Uint8Array): Y.Doc {
  const d = new Y.Doc({ gc: false });
  Y.applyUpdate(d, update);
  return d;
}

/** Waits until the provider's first sync finished. */
export async function synced(c: StockClient, timeoutMs = 15_000): Promise<void> {
  await waitFor('the client to sync', async () => ({ ok: c.provider.synced, value: undefined, detail: `status connected=${c.provider.wsconnected}` }), { timeoutMs, intervalMs: 50 });
}

/** A raw HTTP upgrade, for statuses a WebSocket client hides: resolves with the status code (101 on success). */
export function upgradeStatus(url: string, protocols: string[] = []): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, protocols);
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.on('open', () => {
      ws.close();
      resolve({ status: 101, body: '' });
    });
    ws.on('error', () => undefined);
  });
}
