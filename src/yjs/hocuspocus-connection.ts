// One `@hocuspocus/provider` socket (v3/v4 wire) on /hocuspocus: several documents over one
// connection, every message prefixed with varString(documentName). Per document the client first
// sends an Auth message carrying its token; until that passes, the document's other messages
// wait (bounded). Then the document runs the same session as a y-websocket client (sync and
// awareness use the same numbering), except that every client update is acknowledged with
// SyncStatus, 1 only once a majority stored it, so the provider's hasUnsyncedChanges means "not
// yet replicated". Sans-IO: frames in, frames and closes out through callbacks.
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import type { UpdateSchema } from '../../crdt/index.js';
import { MEMORY_SCHEMA } from '../../crdt/index.js';
import { readBoundedString, readBoundedUint } from '../codec.js';
import { CLOSE } from './session.js';
import { MSG_AUTH } from './wire.js';
import type { ClientHandle, ClientConnection } from './yjs-hub.js';

const H_AUTH = 2;
const H_STATELESS = 5;
const H_CLOSE = 7;
const H_SYNC_STATUS = 8;
const H_PING = 9;
const H_PONG = 10;
const AUTH_TOKEN = 0;
const AUTH_DENIED = 1;
const AUTH_OK = 2;

/** Bounds from hocuspocus's own server (GHSA-xwhh-v746-pj9m): per socket, before authentication. */
const MAX_PENDING_DOCS = 100;
const MAX_PENDING_MESSAGES = 1000;
const MAX_PENDING_BYTES = 5 * 1024 * 1024;
const MAX_OPEN_DOCS = 1000;
const NAME = /^[A-Za-z0-9._:@-]{1,128}$/;

export type AuthVerdict = { ok: true; readOnly: boolean; stillAuthorized?: () => string | undefined } | { ok: false; reason: string };

export interface HocuspocusHooks {
  /** Checks a document's token (empty string when the provider has none). */
  authorize(token: string, docId: string): AuthVerdict;
  /** Attaches a document session (YjsHub.open). */
  open(docId: string, schema: UpdateSchema | undefined, conn: ClientConnection, opts: { readOnly: boolean; stillAuthorized?: () => string | undefined }): ClientHandle;
  send(frame: Uint8Array): void;
  /** Closes the whole socket. */
  close(code: number, reason: string): void;
}

interface DocState {
  docId: string;
  schema: UpdateSchema | undefined;
  handle: ClientHandle | undefined;
  queued: Uint8Array[];
  queuedBytes: number;
}

/** A hocuspocus document name -> our document: "agent/<id>" is agent memory, anything else (optionally "doc/<name>") a general document. */
export function hocuspocusTarget(name: string): { docId: string; schema: UpdateSchema | undefined } | undefined {
  const bare = name.split('\0')[0]!; // a routing key: documentName\0sessionId
  if (bare.startsWith('agent/')) return NAME.test(bare.slice(6)) ? { docId: bare, schema: MEMORY_SCHEMA } : undefined;
  const n = bare.startsWith('doc/') ? bare.slice(4) : bare;
  return NAME.test(n) ? { docId: `doc/${n}`, schema: undefined } : undefined;
}

export class HocuspocusConnection {
  private readonly docs = new Map<string, DocState>();
  private closed = false;

  constructor(private readonly h: HocuspocusHooks) {}

  frame(bytes: Uint8Array): void {
    if (this.closed) return;
    if (bytes.length === 1 && (bytes[0] === H_PONG || bytes[0] === H_PING)) {
      if (bytes[0] === H_PING) this.h.send(new Uint8Array([H_PONG]));
      return;
    }
    let key: string;
    let type: number;
    let body: Uint8Array;
    try {
      const d = decoding.createDecoder(bytes);
      key = readBoundedString(d, 512, 'document name');
      const typeStart = d.pos;
      type = readBoundedUint(d, 255, 'message type');
      body = bytes.subarray(typeStart); // the y-websocket-shaped message: type, then payload
      if (type === H_AUTH) return this.auth(key, d);
    } catch (err) {
      return this.fail(`not a hocuspocus message: ${(err as Error).message}`);
    }
    const doc = this.docs.get(key);
    if (type === H_CLOSE) {
      if (doc) {
        this.docs.delete(key);
        doc.handle?.ended();
      }
      return;
    }
    if (type === H_STATELESS) return; // application messages: no hook here
    if (!doc) {
      // Before its Auth: wait, bounded.
      if (this.docs.size >= MAX_PENDING_DOCS + MAX_OPEN_DOCS) return this.fail('too many documents on one connection');
      const target = hocuspocusTarget(key);
      if (!target) return this.fail(`no document "${key.slice(0, 64)}"`);
      if ([...this.docs.values()].filter((x) => !x.handle).length >= MAX_PENDING_DOCS) return this.fail('too many documents waiting for authentication');
      this.docs.set(key, { ...target, handle: undefined, queued: [body], queuedBytes: body.length });
      return;
    }
    if (!doc.handle) {
      if (doc.queued.length >= MAX_PENDING_MESSAGES || doc.queuedBytes + body.length > MAX_PENDING_BYTES) return this.fail('too many messages before authentication');
      doc.queued.push(body);
      doc.queuedBytes += body.length;
      return;
    }
    doc.handle.frame(body);
  }

  ended(): void {
    this.closed = true;
    for (const d of this.docs.values()) d.handle?.ended();
    this.docs.clear();
  }

  private auth(key: string, d: decoding.Decoder): void {
    const sub = readBoundedUint(d, 255, 'auth message type');
    if (sub !== AUTH_TOKEN) return;
    const token = readBoundedString(d, 8192, 'token');
    const target = hocuspocusTarget(key);
    if (!target) return this.sendAuth(key, AUTH_DENIED, `no document "${key.slice(0, 64)}": use agent/<agentId> or doc/<name>`);
    const existing = this.docs.get(key);
    if (existing?.handle) return; // authenticated already (a repeated Auth)
    if (!existing && this.docs.size >= MAX_OPEN_DOCS) return this.sendAuth(key, AUTH_DENIED, 'too many documents on one connection');
    const verdict = this.h.authorize(token, target.docId);
    if (!verdict.ok) {
      this.docs.delete(key);
      return this.sendAuth(key, AUTH_DENIED, verdict.reason);
    }
    this.sendAuth(key, AUTH_OK, verdict.readOnly ? 'readonly' : 'read-write');
    const state: DocState = existing ?? { ...target, handle: undefined, queued: [], queuedBytes: 0 };
    this.docs.set(key, state);
    const prefix = encodeKey(key);
    state.handle = this.h.open(
      target.docId,
      target.schema,
      {
        send: (f) => this.h.send(f[0] === MSG_AUTH ? concat(prefix, deniedBody(f)) : concat(prefix, f)),
        close: (_code, reason) => {
          // One document of the socket ends: tell the provider (CLOSE), keep the socket.
          if (this.docs.get(key) === state) this.docs.delete(key);
          this.h.send(message(key, (e) => {
            encoding.writeVarUint(e, H_CLOSE);
            encoding.writeVarString(e, reason);
          }));
        },
        status: (applied) => this.h.send(message(key, (e) => {
          encoding.writeVarUint(e, H_SYNC_STATUS);
          encoding.writeVarUint(e, applied ? 1 : 0);
        })),
      },
      { readOnly: verdict.readOnly, stillAuthorized: verdict.stillAuthorized },
    );
    const queued = state.queued;
    state.queued = [];
    state.queuedBytes = 0;
    for (const f of queued) state.handle.frame(f);
  }

  private sendAuth(key: string, sub: number, text: string): void {
    this.h.send(message(key, (e) => {
      encoding.writeVarUint(e, H_AUTH);
      encoding.writeVarUint(e, sub);
      encoding.writeVarString(e, text);
    }));
  }

  private fail(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.ended();
    this.h.close(CLOSE.protocol, reason.slice(0, 120));
  }
}

function encodeKey(key: string): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeVarString(e, key);
  return encoding.toUint8Array(e);
}

function message(key: string, write: (e: encoding.Encoder) => void): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeVarString(e, key);
  write(e);
  return encoding.toUint8Array(e);
}

/** y-protocols permission denied [2, 0, reason] -> hocuspocus [2, 1 (PermissionDenied), reason]. */
function deniedBody(f: Uint8Array): Uint8Array {
  const out = f.slice();
  out[1] = AUTH_DENIED;
  return out;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
