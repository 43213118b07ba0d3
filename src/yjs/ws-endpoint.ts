// The WebSocket driver of the Yjs endpoint (the `ws` library) on the node's HTTP port:
//   /yjs/agent/<agentId>   an agent's memory document (client updates must follow the memory schema)
//   /yjs/doc/<name>        a general Yjs document (any content, up to the size limit)
// It authenticates the upgrade (a client token in `?token=` or as a subprotocol; 401 without a
// valid one), then hands frames to the hub's session and the session's frames to the socket.
// It also guards the node: frame and buffer limits, a connection cap, dead-peer pings.
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { MEMORY_SCHEMA, type UpdateSchema } from '../../crdt/index.js';
import type { Keyring } from '../security/keyring.js';
import { keyId } from '../security/kdf.js';
import { tokenCoversDoc, verifyClientToken, type ClientTokenClaims } from '../security/client-token.js';
import type { Logger } from '../runtime/types.js';
import { CLOSE } from './session.js';
import { HocuspocusConnection } from './hocuspocus-connection.js';
import type { YjsHub } from './yjs-hub.js';

const NAME = /^[A-Za-z0-9._:@-]{1,128}$/;
/** Subprotocol form of a token: browsers cannot set headers on a WebSocket, but can offer protocols. */
export const TOKEN_SUBPROTOCOL_PREFIX = 'tri-token.';
/** Connections one node serves at once. */
const DEFAULT_MAX_CONNECTIONS = 20_000;
/** A socket whose unsent bytes pass this (beyond the frame being sent) is a client that does not read: closed. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;
const PING_MS = 30_000;

export interface YjsEndpointOptions {
  hub: YjsHub;
  /** The cluster keyring verifies client tokens; undefined (an --insecure cluster) takes no token. */
  keyring: Keyring | undefined;
  log: Logger;
  maxConnections?: number;
}

/** Which document a request path names, or undefined when it names none. */
export function parseYjsPath(path: string): { docId: string; schema: UpdateSchema | undefined } | undefined {
  const m = /^\/yjs\/(agent|doc)\/([^/?]+)$/.exec(path);
  if (!m) return undefined;
  let name: string;
  try {
    name = decodeURIComponent(m[2]!);
  } catch {
    return undefined;
  }
  if (!NAME.test(name)) return undefined;
  return m[1] === 'agent' ? { docId: `agent/${name}`, schema: MEMORY_SCHEMA } : { docId: `doc/${name}`, schema: undefined };
}

export class YjsEndpoint {
  private readonly wss: WebSocketServer;
  private readonly sockets = new Set<WebSocket>();
  private readonly pingTimer: NodeJS.Timeout;
  private readonly alive = new WeakSet<WebSocket>();
  private readonly budget = new WeakMap<WebSocket, number>();

  constructor(private readonly o: YjsEndpointOptions) {
    this.wss = new WebSocketServer({
      noServer: true,
      // An update is at most the document size limit; the frame adds a few bytes of header.
      maxPayload: o.hub.maxDocBytes + 1024,
      perMessageDeflate: false,
      // The token's subprotocol is the one chosen (a browser fails the socket if none of its offers is).
      handleProtocols: (protocols) => [...protocols].find((p) => p.startsWith(TOKEN_SUBPROTOCOL_PREFIX)) ?? false,
    });
    if (!o.keyring) o.log.warn({}, 'Yjs endpoint is OPEN: this --insecure cluster takes no client token, anyone who reaches the HTTP port can read and write every document');
    this.pingTimer = setInterval(() => this.ping(), PING_MS);
    this.pingTimer.unref();
  }

  get connections(): number {
    return this.sockets.size;
  }

  /** Handles an HTTP upgrade; returns false when the path is not ours. */
  upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const url = new URL(req.url ?? '/', 'http://node');
    if (url.pathname === '/hocuspocus') {
      // hocuspocus authenticates each document in-band (its Auth message carries the token).
      if (this.sockets.size >= (this.o.maxConnections ?? DEFAULT_MAX_CONNECTIONS)) return reject(socket, 503, 'too many connections');
      this.wss.handleUpgrade(req, socket, head, (ws) => this.attachHocuspocus(ws, socket));
      return true;
    }
    if (!url.pathname.startsWith('/yjs/')) return false;
    const target = parseYjsPath(url.pathname);
    if (!target) return reject(socket, 404, 'no document at this path: use /yjs/agent/<agentId> or /yjs/doc/<name> (1-128 letters, digits, ".", "_", ":", "@", "-")');
    if (this.sockets.size >= (this.o.maxConnections ?? DEFAULT_MAX_CONNECTIONS)) return reject(socket, 503, 'too many connections');
    let claims: ClientTokenClaims | undefined;
    if (this.o.keyring) {
      const token = url.searchParams.get('token') ?? tokenFromProtocols(req.headers['sec-websocket-protocol']);
      const verdict = token === undefined ? { ok: false as const, reason: 'no token: pass ?token= or the subprotocol tri-token.<token> (make one with `tri token create`)' } : verifyClientToken(token, this.o.keyring.rawKeys(), Date.now());
      if (!verdict.ok) return reject(socket, 401, verdict.reason);
      if (!tokenCoversDoc(verdict.claims.docs, target.docId)) return reject(socket, 403, `token does not cover ${target.docId}`);
      claims = verdict.claims;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.attach(ws, socket, target.docId, target.schema, claims));
    return true;
  }

  close(): void {
    clearInterval(this.pingTimer);
    for (const ws of this.sockets) ws.terminate();
    this.sockets.clear();
    this.wss.close();
  }

  private attach(ws: WebSocket, socket: Duplex, docId: string, schema: UpdateSchema | undefined, claims: ClientTokenClaims | undefined): void {
    this.sockets.add(ws);
    this.alive.add(ws);
    const keyring = this.o.keyring;
    const handle = this.o.hub.open(
      docId,
      schema,
      {
        send: (frame) => this.sendGuarded(ws, socket, frame, docId),
        flush: () => uncork(socket),
        close: (code, reason) => {
          if (ws.readyState === ws.OPEN) ws.close(code, reason);
          else ws.terminate();
        },
      },
      {
        readOnly: claims?.ro === true,
        stillAuthorized: claims && keyring ? () => stillValid(claims, keyring) : undefined,
      },
    );
    ws.on('message', (data, isBinary) => {
      if (!isBinary) return handle.close(CLOSE.protocol, 'text frames are not y-websocket messages');
      handle.frame(toBytes(data));
    });
    ws.on('pong', () => this.alive.add(ws));
    ws.on('error', (err) => this.o.log.debug({ doc: docId, err: err.message }, 'Yjs client socket error'));
    ws.on('close', () => {
      this.sockets.delete(ws);
      handle.ended();
    });
  }

  private attachHocuspocus(ws: WebSocket, socket: Duplex): void {
    this.sockets.add(ws);
    this.alive.add(ws);
    const keyring = this.o.keyring;
    const conn = new HocuspocusConnection({
      authorize: (token, docId) => {
        if (!keyring) return { ok: true, readOnly: false };
        const v = verifyClientToken(token, keyring.rawKeys(), Date.now());
        if (!v.ok) return { ok: false, reason: v.reason };
        if (!tokenCoversDoc(v.claims.docs, docId)) return { ok: false, reason: `token does not cover ${docId}` };
        const claims = v.claims;
        return { ok: true, readOnly: claims.ro, stillAuthorized: () => stillValid(claims, keyring) };
      },
      open: (docId, schema, c, opts) => this.o.hub.open(docId, schema, c, opts),
      send: (frame) => this.sendGuarded(ws, socket, frame, 'hocuspocus'),
      close: (code, reason) => ws.close(code, reason),
    });
    ws.on('message', (data, isBinary) => {
      if (!isBinary) return ws.close(CLOSE.protocol, 'text frames are not hocuspocus messages');
      conn.frame(toBytes(data));
    });
    ws.on('pong', () => this.alive.add(ws));
    ws.on('error', (err) => this.o.log.debug({ err: err.message }, 'hocuspocus client socket error'));
    ws.on('close', () => {
      this.sockets.delete(ws);
      conn.ended();
    });
  }

  /**
   * Sends unless the client stopped reading. A client that has been reading (little unsent) may be
   * sent a frame of any size (an initial sync of a large document); beyond that, at most
   * MAX_BUFFERED_BYTES more may wait, so a client that never reads costs the node a bounded amount.
   * Frames sent to one client in one tick leave in one write (the socket is corked until the next
   * tick): a batch of relayed updates, or a room's deferred deliveries, costs each client one
   * syscall instead of one per update (socket writes were over half of a node's busy time with
   * 100 clients on a document).
   */
  private sendGuarded(ws: WebSocket, socket: Duplex, frame: Uint8Array, doc: string): void {
    if (ws.readyState !== ws.OPEN) return;
    const buffered = ws.bufferedAmount;
    if (buffered <= MAX_BUFFERED_BYTES) this.budget.set(ws, MAX_BUFFERED_BYTES + frame.byteLength);
    else if (buffered + frame.byteLength > (this.budget.get(ws) ?? MAX_BUFFERED_BYTES)) {
      this.o.log.info({ doc, buffered }, 'closing a Yjs client that does not read what it is sent');
      ws.terminate();
      return;
    }
    if (!socket.writableCorked) {
      socket.cork();
      process.nextTick(uncork, socket);
    }
    ws.send(frame);
  }

  /** Sockets that did not answer the last ping are gone (a client's own liveness check covers the other way). */
  private ping(): void {
    for (const ws of this.sockets) {
      if (!this.alive.has(ws)) {
        ws.terminate();
        continue;
      }
      this.alive.delete(ws);
      ws.ping();
    }
  }
}

/** Still valid: not expired, and the key that signed it is still installed. */
function stillValid(claims: ClientTokenClaims, keyring: Keyring): string | undefined {
  if (Date.now() >= claims.exp) return `token expired at ${new Date(claims.exp).toISOString()}`;
  if (!keyring.rawKeys().some((k) => keyIdCache(k) === claims.kid)) return `the key ${claims.kid} that signed the token was removed`;
  return undefined;
}

const ids = new WeakMap<Buffer, string>();
function keyIdCache(k: Buffer): string {
  let id = ids.get(k);
  if (id === undefined) ids.set(k, (id = keyId(k)));
  return id;
}

function tokenFromProtocols(header: string | undefined): string | undefined {
  if (!header) return undefined;
  for (const p of header.split(',')) {
    const t = p.trim();
    if (t.startsWith(TOKEN_SUBPROTOCOL_PREFIX)) return t.slice(TOKEN_SUBPROTOCOL_PREFIX.length);
  }
  return undefined;
}

/** Also called early (the hub's flush): the tick's pending uncork then finds nothing corked, a no-op. */
function uncork(socket: Duplex): void {
  if (socket.writableCorked) socket.uncork();
}

function toBytes(data: Buffer | ArrayBuffer | Buffer[]): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  return data instanceof ArrayBuffer ? new Uint8Array(data) : data;
}

/** Refuses an upgrade with an HTTP status (a browser sees only a failed connection; other clients see why). */
function reject(socket: Duplex, status: number, reason: string): true {
  const text = { 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 503: 'Service Unavailable' }[status] ?? 'Error';
  const body = `${reason}\n`;
  socket.end(`HTTP/1.1 ${status} ${text}\r\nconnection: close\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  return true;
}
