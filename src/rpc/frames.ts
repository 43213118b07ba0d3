// Wire format of the RPC layer that multiplexes every stream conversation between nodes (push-pull,
// memory sync, client commands) over one framed connection per peer. Each frame is one message:
//   request:  1 | id | method | payload      response: 2 | id | payload
//   error:    3 | id | error name | message  notify:   4 | method | payload   (no reply)
import * as encoding from 'lib0/encoding';
import * as decoding from 'lib0/decoding';
import { decodeWith, readBoundedBytes, readBoundedString, readBoundedUint } from '../codec.js';
import { DecodeError } from '../errors.js';
import { MAX_FRAME_BYTES } from '../transport/types.js';
import { DIR_OF, PART_KIND, type PartFrame } from './parts.js';

export type RpcFrame =
  | { kind: 'request'; id: number; method: string; payload: Uint8Array }
  | { kind: 'response'; id: number; payload: Uint8Array }
  | { kind: 'error'; id: number; name: string; message: string }
  | { kind: 'notify'; method: string; payload: Uint8Array };

const KIND_CODE = { request: 1, response: 2, error: 3, notify: 4 } as const;
const MAX_ID = 2 ** 32;
const MAX_NAME = 64;
const MAX_MESSAGE = 4096;

export function encodeRpcFrame(f: RpcFrame): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeUint8(e, KIND_CODE[f.kind]);
  switch (f.kind) {
    case 'request':
      encoding.writeVarUint(e, f.id);
      encoding.writeVarString(e, f.method);
      encoding.writeVarUint8Array(e, f.payload);
      break;
    case 'response':
      encoding.writeVarUint(e, f.id);
      encoding.writeVarUint8Array(e, f.payload);
      break;
    case 'error':
      encoding.writeVarUint(e, f.id);
      encoding.writeVarString(e, f.name.slice(0, MAX_NAME));
      encoding.writeVarString(e, f.message.slice(0, MAX_MESSAGE / 4));
      break;
    case 'notify':
      encoding.writeVarString(e, f.method);
      encoding.writeVarUint8Array(e, f.payload);
      break;
  }
  return encoding.toUint8Array(e);
}

/**
 * `maxPayload`: one frame's limit, or more for a frame put back together from parts (parts.ts).
 * A part itself decodes as a PartFrame (never inside a reassembled frame: `allowParts` false).
 */
export function decodeRpcFrame(bytes: Uint8Array, maxPayload = MAX_FRAME_BYTES, allowParts = true): RpcFrame | PartFrame {
  return decodeWith<RpcFrame | PartFrame>(bytes, 'rpc frame', (d) => {
    const code = decoding.readUint8(d);
    switch (code) {
      case PART_KIND: {
        if (!allowParts) throw new DecodeError('an rpc part inside a reassembled frame');
        const dir = DIR_OF[decoding.readUint8(d)];
        if (!dir) throw new DecodeError('rpc part of unknown direction');
        const id = readBoundedUint(d, MAX_ID, 'request id');
        const last = decoding.readUint8(d) === 1;
        return { kind: 'part', dir, id, last, bytes: readBoundedBytes(d, MAX_FRAME_BYTES, 'part') };
      }
      case 1:
        return {
          kind: 'request',
          id: readBoundedUint(d, MAX_ID, 'request id'),
          method: readBoundedString(d, MAX_NAME, 'method'),
          payload: readBoundedBytes(d, maxPayload, 'payload'),
        };
      case 2:
        return { kind: 'response', id: readBoundedUint(d, MAX_ID, 'request id'), payload: readBoundedBytes(d, maxPayload, 'payload') };
      case 3:
        return {
          kind: 'error',
          id: readBoundedUint(d, MAX_ID, 'request id'),
          name: readBoundedString(d, MAX_NAME, 'error name'),
          message: readBoundedString(d, MAX_MESSAGE, 'error message'),
        };
      case 4:
        return { kind: 'notify', method: readBoundedString(d, MAX_NAME, 'method'), payload: readBoundedBytes(d, MAX_FRAME_BYTES, 'payload') };
      default:
        throw new DecodeError(`unknown rpc frame kind ${code}`);
    }
  });
}
