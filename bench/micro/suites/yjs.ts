// The Yjs WebSocket endpoint's message handling, without sockets: frames into the sans-IO session
// core (YSession) over a port on a real agent document, and the y-websocket wire codec. A
// client's update goes to the quorum write path as a promise and is echoed once stored; benny's
// cases are synchronous, so that case times the codec work around the write (decode the frame,
// encode the echo) and not the write itself (the replica and quorum suites time that).
import * as Y from 'yjs';
import { AwarenessTable, MAX_CLIENTS_PER_OWNER } from '../../../src/yjs/awareness-table.js';
import { YSession, type SessionPort } from '../../../src/yjs/session.js';
import { decodeAwarenessUpdate, decodeClientFrame, encodeAwareness, encodeAwarenessUpdate, encodeSyncStep1, encodeUpdate, type AwarenessEntry } from '../../../src/yjs/wire.js';
import { episodeUpdates, memoryDoc, rngFor } from '../gen.js';
import { consume, cycling, type MicroSuite } from '../suite.js';

export const DOC_EPISODES = 1_000;
const SMALL_DOC_EPISODES = 100;
/** Clients of one document on this node: an awareness change is sent to each. */
export const ROOM_CLIENTS = 8;
/** Awareness states a new connection is sent (everyone looking at the document). */
const ROOM_STATES = 16;
const MAX_UPDATE_BYTES = 16 * 1024 * 1024;
const POOL = 4_096;
const SMALL_POOL = 256;

/** A collaborative editor's awareness state: user name and colour, a cursor. About 120 bytes of JSON. */
function awarenessState(clientId: number, i: number): string {
  return JSON.stringify({ user: { name: `user-${clientId}`, color: `#${(clientId % 0xffffff).toString(16).padStart(6, '0')}` }, cursor: { anchor: { type: 'text', index: i }, head: { type: 'text', index: i + (i % 7) } } });
}

/** A session open on `doc` whose frames out are kept alive (consume); the client's awareness goes to `onAwareness`. */
function openSession(doc: Y.Doc, onAwareness: (entries: AwarenessEntry[]) => void, states: () => AwarenessEntry[]): YSession {
  const port: SessionPort = {
    send: (f) => consume(f),
    close: (code, reason) => {
      throw new Error(`yjs bench: the session closed (${code} ${reason})`);
    },
    stateVector: () => Y.encodeStateVector(doc),
    diff: (sv) => Y.encodeStateAsUpdate(doc, sv),
    addsNothing: () => false,
    write: () => {
      throw new Error('yjs bench: no case writes through the session');
    },
    awareness: onAwareness,
    awarenessStates: states,
  };
  const s = new YSession(port, { token: false }, { maxUpdateBytes: MAX_UPDATE_BYTES, maxQueuedFrames: 256, maxInFlight: 1024 });
  s.loaded();
  return s;
}

export const suite: MicroSuite = {
  name: 'yjs',
  title: `Yjs WebSocket messages through the session core and wire codec (a ${DOC_EPISODES.toLocaleString('en')}-episode document, ${ROOM_CLIENTS} clients on it)`,
  build({ small }) {
    const pool = small ? SMALL_POOL : POOL;
    const episodes = small ? SMALL_DOC_EPISODES : DOC_EPISODES;
    const rng = rngFor('yjs');

    // A client's edits: small episode writes, each framed as y-websocket sends them.
    const updateFrames = episodeUpdates(pool, 16, 'yjs-updates').map((u) => encodeUpdate(u.update));
    const updateBytes = Math.round(updateFrames.reduce((a, f) => a + f.length, 0) / updateFrames.length);
    const nextUpdate = cycling(updateFrames);

    // The document the room is on, and a reconnecting client one write behind.
    const { doc, svBeforeLast } = memoryDoc(episodes, 3, 'yjs-doc');
    const step1 = encodeSyncStep1(svBeforeLast);
    const fresh = encodeSyncStep1(Y.encodeStateVector(new Y.Doc()));

    // The room: ROOM_CLIENTS sessions on the document sharing one awareness table; a client's
    // awareness change is taken into the table and sent to every session of the room (as the hub relays).
    let table = new AwarenessTable();
    let now = 0;
    const sessions: YSession[] = [];
    const relay = (entries: AwarenessEntry[]): void => {
      const taken = table.apply('c0', entries, now, MAX_CLIENTS_PER_OWNER);
      if (taken.length === 0) throw new Error('yjs bench: the awareness table took nothing (the case would time a no-op)');
      for (const s of sessions) s.deliverAwareness(taken);
    };
    for (let i = 0; i < ROOM_CLIENTS; i++) sessions.push(openSession(doc, relay, () => table.live()));
    const sender = sessions[0]!;
    // The sender's cursor moves: each frame a newer clock, so the table takes every one. After the
    // pool, a fresh table (the clocks start again).
    const clientId = 1 + rng.int(2 ** 31);
    const awarenessFrames = Array.from({ length: pool }, (_, i) => encodeAwareness(encodeAwarenessUpdate([{ clientId, clock: i + 1, state: awarenessState(clientId, i) }])));
    let af = 0;

    // What a new connection is sent: the states of everyone on the document.
    const roomStates: AwarenessEntry[] = Array.from({ length: ROOM_STATES }, (_, i) => {
      const id = 1 + rng.int(2 ** 31);
      return { clientId: id, clock: 1 + rng.int(500), state: awarenessState(id, i) };
    });
    const roomUpdate = encodeAwarenessUpdate(roomStates);
    const label = `${episodes.toLocaleString('en')} episodes`;

    return {
      cases: [
        {
          name: `client update frame (${updateBytes} B): decode + encode the echo (codec around the quorum write)`,
          fn: () => {
            const m = decodeClientFrame(nextUpdate(), MAX_UPDATE_BYTES);
            if (m.type !== 'update') throw new Error('yjs bench: not an update frame');
            consume(encodeUpdate(m.update));
          },
        },
        { name: `SyncStep1 from a client 1 write behind -> SyncStep2 (session, ${label})`, fn: () => sender.frame(step1) },
        { name: `SyncStep1 from an empty client -> SyncStep2, full document (session, ${label})`, fn: () => sender.frame(fresh) },
        {
          name: `awareness frame from a client -> table -> relayed to ${ROOM_CLIENTS} clients (session)`,
          fn: () => {
            if (af === pool) {
              af = 0;
              table = new AwarenessTable();
            }
            now += 10;
            sender.frame(awarenessFrames[af++]!);
          },
        },
        { name: `encode awareness update (${ROOM_STATES} states, what a new connection is sent)`, fn: () => consume(encodeAwareness(encodeAwarenessUpdate(roomStates))) },
        { name: `decode awareness update (${ROOM_STATES} states, JSON-checked)`, fn: () => consume(decodeAwarenessUpdate(roomUpdate)) },
      ],
    };
  },
};
