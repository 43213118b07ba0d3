// A minimal client for serf's msgpack RPC (the protocol `serf members` itself uses): a
// handshake, then `members` requests answered on the same connection.
// Wire format: each request is a header map {Command, Seq} followed by a body map; each response
// is a header map {Seq, Error} followed by a body for commands that return one.
import { connect, type Socket } from 'node:net';
import { decode, encode, NeedMoreData, type MsgValue } from './msgpack.js';

export interface SerfMember {
  name: string;
  status: string;
}

interface Pending {
  hasBody: boolean;
  resolve: (body: MsgValue) => void;
  reject: (err: Error) => void;
}

export class SerfRpcClient {
  private buffer = Buffer.alloc(0);
  private seq = 0;
  private readonly pending = new Map<number, Pending>();
  private closedError: Error | undefined;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new Error('serf RPC connection closed')));
  }

  /** Connects and handshakes; rejects after timeoutMs. */
  static async open(host: string, port: number, timeoutMs = 3_000): Promise<SerfRpcClient> {
    const socket = connect({ host, port });
    socket.setNoDelay(true);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`serf RPC ${host}:${port}: no connection within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    const client = new SerfRpcClient(socket);
    await client.call('handshake', { Version: 1 }, false, timeoutMs);
    return client;
  }

  async members(timeoutMs = 3_000): Promise<SerfMember[]> {
    const body = (await this.call('members', null, true, timeoutMs)) as { Members?: { Name: string; Status: string }[] };
    return (body.Members ?? []).map((m) => ({ name: m.Name, status: m.Status }));
  }

  close(): void {
    this.socket.destroy();
  }

  private call(command: string, body: MsgValue, hasBody: boolean, timeoutMs: number): Promise<MsgValue> {
    if (this.closedError) return Promise.reject(this.closedError);
    const seq = this.seq++;
    const header = encode({ Command: command, Seq: seq });
    this.socket.write(body === null ? header : Buffer.concat([header, encode(body)]));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(seq);
        reject(new Error(`serf RPC ${command}: no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(seq, {
        hasBody,
        resolve: (v) => (clearTimeout(timer), resolve(v)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
    });
  }

  private onData(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    // Bounded: each pass consumes at least one header from a finite buffer.
    for (;;) {
      let offset = 0;
      let header: { Seq: number; Error: string };
      let body: MsgValue = null;
      try {
        const h = decode(this.buffer, offset);
        header = h.value as { Seq: number; Error: string };
        offset = h.next;
        const waiting = this.pending.get(header.Seq);
        if (waiting?.hasBody && !header.Error) {
          const b = decode(this.buffer, offset);
          body = b.value;
          offset = b.next;
        }
      } catch (err) {
        if (err instanceof NeedMoreData) return;
        this.fail(err as Error);
        return;
      }
      this.buffer = this.buffer.subarray(offset);
      const waiting = this.pending.get(header.Seq);
      this.pending.delete(header.Seq);
      if (header.Error) waiting?.reject(new Error(`serf RPC error: ${header.Error}`));
      else waiting?.resolve(body);
    }
  }

  private fail(err: Error): void {
    this.closedError ??= err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    this.socket.destroy();
  }
}
