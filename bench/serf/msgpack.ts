// The subset of MessagePack that serf's RPC protocol uses, so the benchmark can talk to serf
// agents over one long-lived TCP connection each instead of spawning `serf members` per poll
// (31 CLI processes per poll round would load the 2 cores and blur the timings being measured).
// Encodes maps, strings, integers, booleans and nil; decodes everything serf sends back.

export type MsgValue = null | boolean | number | string | Uint8Array | MsgValue[] | { [key: string]: MsgValue };

/** Thrown by decode() when the buffer ends inside a value: wait for more bytes. */
export class NeedMoreData extends Error {}

export function encode(value: MsgValue): Buffer {
  const parts: Buffer[] = [];
  write(value, parts);
  return Buffer.concat(parts);
}

function write(v: MsgValue, out: Buffer[]): void {
  if (v === null) out.push(Buffer.from([0xc0]));
  else if (typeof v === 'boolean') out.push(Buffer.from([v ? 0xc3 : 0xc2]));
  else if (typeof v === 'number') writeInt(v, out);
  else if (typeof v === 'string') {
    const bytes = Buffer.from(v, 'utf8');
    out.push(bytes.length < 32 ? Buffer.from([0xa0 | bytes.length]) : header(0xdb, bytes.length), bytes);
  } else if (v instanceof Uint8Array) out.push(header(0xc6, v.length), Buffer.from(v));
  else if (Array.isArray(v)) {
    out.push(header(0xdd, v.length));
    for (const item of v) write(item, out);
  } else {
    const entries = Object.entries(v);
    out.push(header(0xdf, entries.length));
    for (const [k, item] of entries) {
      write(k, out);
      write(item, out);
    }
  }
}

function writeInt(n: number, out: Buffer[]): void {
  if (!Number.isInteger(n)) throw new TypeError(`only integers are encoded, got ${n}`);
  if (n >= 0 && n < 128) out.push(Buffer.from([n]));
  else if (n >= 0 && n <= 0xffffffff) out.push(header(0xce, n));
  else {
    const b = Buffer.alloc(9);
    b[0] = 0xd3;
    b.writeBigInt64BE(BigInt(n), 1);
    out.push(b);
  }
}

function header(type: number, length: number): Buffer {
  const b = Buffer.alloc(5);
  b[0] = type;
  b.writeUInt32BE(length, 1);
  return b;
}

/** Decodes one value at `offset`; returns it and the offset after it. */
export function decode(buf: Buffer, offset = 0): { value: MsgValue; next: number } {
  const r = new Reader(buf, offset);
  const value = r.value();
  return { value, next: r.pos };
}

class Reader {
  constructor(
    private readonly buf: Buffer,
    public pos: number,
  ) {}

  value(): MsgValue {
    const t = this.u(1);
    if (t <= 0x7f) return t;
    if (t >= 0xe0) return t - 0x100;
    if ((t & 0xf0) === 0x80) return this.map(t & 0x0f);
    if ((t & 0xf0) === 0x90) return this.array(t & 0x0f);
    if ((t & 0xe0) === 0xa0) return this.str(t & 0x1f);
    switch (t) {
      case 0xc0: return null;
      case 0xc2: return false;
      case 0xc3: return true;
      case 0xc4: return this.bytes(this.u(1));
      case 0xc5: return this.bytes(this.u(2));
      case 0xc6: return this.bytes(this.u(4));
      case 0xca: return this.take(4).readFloatBE(0);
      case 0xcb: return this.take(8).readDoubleBE(0);
      case 0xcc: return this.u(1);
      case 0xcd: return this.u(2);
      case 0xce: return this.u(4);
      case 0xcf: return Number(this.take(8).readBigUInt64BE(0));
      case 0xd0: return this.take(1).readInt8(0);
      case 0xd1: return this.take(2).readInt16BE(0);
      case 0xd2: return this.take(4).readInt32BE(0);
      case 0xd3: return Number(this.take(8).readBigInt64BE(0));
      case 0xd9: return this.str(this.u(1));
      case 0xda: return this.str(this.u(2));
      case 0xdb: return this.str(this.u(4));
      case 0xdc: return this.array(this.u(2));
      case 0xdd: return this.array(this.u(4));
      case 0xde: return this.map(this.u(2));
      case 0xdf: return this.map(this.u(4));
      default: throw new Error(`unsupported msgpack type 0x${t.toString(16)}`);
    }
  }

  private map(n: number): { [key: string]: MsgValue } {
    const out: { [key: string]: MsgValue } = {};
    for (let i = 0; i < n; i++) {
      const k = this.value();
      out[typeof k === 'string' ? k : String(k)] = this.value();
    }
    return out;
  }

  private array(n: number): MsgValue[] {
    const out: MsgValue[] = [];
    for (let i = 0; i < n; i++) out.push(this.value());
    return out;
  }

  private str(n: number): string {
    return this.take(n).toString('utf8');
  }

  private bytes(n: number): Uint8Array {
    return new Uint8Array(this.take(n));
  }

  private u(n: 1 | 2 | 4): number {
    return this.take(n).readUIntBE(0, n);
  }

  private take(n: number): Buffer {
    if (this.pos + n > this.buf.length) throw new NeedMoreData();
    const slice = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return slice;
  }
}
