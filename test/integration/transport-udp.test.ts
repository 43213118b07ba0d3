// The real UDP transport never lets the network crash the node: bad addresses, throwing
// handlers and closed sockets are counted and logged, not thrown.

import { afterEach, describe, expect, it } from 'vitest';
import { OversizeError, TransportError } from '../../src/errors.js';
import { parseAddress } from '../../src/transport/address.js';
import { createUdpTransport, type UdpTransport } from '../../src/transport/udp.js';
import type { Logger } from '../../src/runtime/types.js';

const open: UdpTransport[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

function memoryLogger(lines: string[]): Logger {
  const log = (_obj: object, msg?: string) => void lines.push(msg ?? '');
  const logger: Logger = { debug: log, info: log, warn: log, error: log, child: () => logger };
  return logger;
}

async function udp(host: string, logger?: Logger): Promise<UdpTransport> {
  const t = await createUdpTransport({ host, port: 0, ...(logger ? { logger } : {}) });
  open.push(t);
  return t;
}

async function until(predicate: () => boolean, ms = 5000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('udp transport (real sockets)', () => {
  it('drops a send to a malformed address, counting and logging it', async () => {
    const lines: string[] = [];
    const a = await udp('127.0.0.41', memoryLogger(lines));
    expect(() => a.send('not an address', Uint8Array.of(1))).not.toThrow();
    expect(a.stats().errors).toBe(1);
    expect(lines[0]).toMatch(/malformed/);
  });

  it('survives a throwing packet handler and keeps receiving', async () => {
    const a = await udp('127.0.0.41');
    const b = await udp('127.0.0.42', memoryLogger([]));
    let calls = 0;
    b.onPacket(() => {
      calls++;
      if (calls === 1) throw new Error('handler bug');
    });
    a.send(b.address, Uint8Array.of(1));
    await until(() => calls === 1);
    a.send(b.address, Uint8Array.of(2));
    await until(() => calls === 2);
    expect(b.stats()).toMatchObject({ packetsReceived: 2, errors: 1 });
    expect(a.stats()).toMatchObject({ packetsSent: 2, bytesSent: 2 });
  });

  it('refuses oversize packets even when closed, and ignores sends after close', async () => {
    const a = await udp('127.0.0.41');
    await a.close();
    expect(() => a.send('127.0.0.42:9', new Uint8Array(1401))).toThrow(OversizeError);
    expect(() => a.send('127.0.0.42:9', Uint8Array.of(1))).not.toThrow();
    await a.close();
  });

  it('binding a taken port fails with TransportError', async () => {
    const a = await udp('127.0.0.43');
    const { port } = parseAddress(a.address);
    await expect(createUdpTransport({ host: '127.0.0.43', port })).rejects.toBeInstanceOf(TransportError);
  });
});
