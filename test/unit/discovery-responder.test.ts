import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { REQUEST_BODY_BYTES, encodeReply, encodeRequest, NONCE_BYTES } from '../../src/discovery/codec.js';
import { openBroadcastSocket, type DiscoverySocket } from '../../src/discovery/discovery-socket.js';
import { createDiscoveryCrypto, createEnvelope, type Envelope } from '../../src/discovery/envelope.js';
import { RequestHandler } from '../../src/discovery/request-handler.js';
import { DiscoveryResponder } from '../../src/discovery/responder.js';
import { DiscoverySession } from '../../src/discovery/session.js';
import { Keyring, generateKey } from '../../src/security/keyring.js';
import { SEAL_OVERHEAD } from '../../src/security/packet-crypto.js';

const clock = { now: () => 1_000 };
const keyring = new Keyring(generateKey());
const crypto = createDiscoveryCrypto({ keyring, label: 'prod' });
const advertise = { name: 'n2', host: '10.213.1.2', port: 9999, rpcPort: 10000 };
const generous = { perSource: { capacity: 1e6, refillPerSecond: 0 }, global: { capacity: 1e6, refillPerSecond: 0 }, maxSources: 16 };

function handler(env: Envelope = createEnvelope({ crypto }, clock), rateLimit = generous): RequestHandler {
  return new RequestHandler({ envelope: env, advertise, clock, rateLimit });
}

describe('RequestHandler', () => {
  it('answers an authentic request with a reply no larger than the request, echoing the nonce', () => {
    const client = new DiscoverySession(createEnvelope({ crypto }, clock));
    const req = client.request();
    expect(req.length).toBe(REQUEST_BODY_BYTES + SEAL_OVERHEAD);
    const r = handler().handle('10.213.1.3', req);
    expect(r.action).toBe('reply');
    if (r.action !== 'reply') return;
    expect(r.data.length).toBeLessThanOrEqual(req.length);
    const v = client.receive('10.213.1.2', r.data);
    expect(v.accepted && v.peer).toEqual({ name: 'n2', address: '10.213.1.2:9999', rpcPort: 10000, from: '10.213.1.2' });
  });

  it('keeps replies no larger than requests for every name and host that can be advertised (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 64 }).filter((s) => Buffer.byteLength(s) <= 64),
        fc.string({ minLength: 1, maxLength: 64 }).filter((s) => Buffer.byteLength(s) <= 64),
        fc.boolean(),
        (name, host, insecure) => {
          const env = createEnvelope(insecure ? { insecure: true } : { crypto }, clock);
          const h = new RequestHandler({ envelope: env, advertise: { name, host, port: 1, rpcPort: 2 }, clock, rateLimit: generous });
          const req = new DiscoverySession(env).request();
          const r = h.handle('10.0.0.1', req);
          expect(r.action === 'reply' && r.data.length <= req.length).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('drops requests sealed with a different key, and counts them as auth', () => {
    const stranger = createEnvelope({ crypto: createDiscoveryCrypto({ keyring: new Keyring(generateKey()), label: 'prod' }) }, clock);
    const r = handler().handle('10.213.1.9', new DiscoverySession(stranger).request());
    expect(r.action === 'drop' && r.reason).toBe('auth');
  });

  it('drops a replayed request (same sealed bytes from any address)', () => {
    const h = handler();
    const req = new DiscoverySession(createEnvelope({ crypto }, clock)).request();
    expect(h.handle('10.213.1.3', req).action).toBe('reply');
    const again = h.handle('10.213.1.66', req);
    expect(again.action === 'drop' && again.reason).toBe('replay');
  });

  it('drops oversized, undersized and reply-kind packets', () => {
    const h = handler();
    const env = createEnvelope({ crypto }, clock);
    const big = h.handle('1.1.1.1', Buffer.alloc(REQUEST_BODY_BYTES + SEAL_OVERHEAD + 1));
    const small = h.handle('1.1.1.1', Buffer.alloc(10));
    // A sealed reply padded to request size so it passes the length check and reaches the kind check.
    const reply = encodeReply({ nonce: new Uint8Array(NONCE_BYTES), insecure: false, name: 'x', host: 'h', port: 1, rpcPort: 0 });
    const padded = Buffer.concat([reply, Buffer.alloc(REQUEST_BODY_BYTES - reply.length)]);
    const wrongKind = h.handle('1.1.1.1', env.wrap(padded));
    expect([big, small, wrongKind].map((r) => r.action === 'drop' && r.reason)).toEqual(['oversize', 'malformed', 'malformed']);
  });

  it('answers an --insecure request only in insecure mode', () => {
    const plain = createEnvelope({ insecure: true }, clock);
    const req = new DiscoverySession(plain).request();
    expect(req.length).toBe(REQUEST_BODY_BYTES);
    expect(handler(plain).handle('1.1.1.1', req).action).toBe('reply');
    const keyed = handler().handle('1.1.1.1', Buffer.concat([req, Buffer.alloc(SEAL_OVERHEAD)]));
    expect(keyed.action === 'drop' && keyed.reason).toBe('malformed');
    expect(encodeRequest({ nonce: new Uint8Array(NONCE_BYTES), insecure: true })[6]).toBe(1); // the loud flag
  });

  it('rate-limits per source and globally, after authentication', () => {
    const env = createEnvelope({ crypto }, clock);
    const h = handler(env, { perSource: { capacity: 2, refillPerSecond: 0 }, global: { capacity: 3, refillPerSecond: 0 }, maxSources: 16 });
    const ask = (src: string): string => {
      const r = h.handle(src, new DiscoverySession(env).request());
      return r.action === 'reply' ? 'reply' : r.reason;
    };
    // Forged packets first: they must not spend anybody's tokens.
    for (let i = 0; i < 20; i++) h.handle('10.0.0.1', Buffer.alloc(REQUEST_BODY_BYTES + SEAL_OVERHEAD, 1));
    expect([ask('10.0.0.1'), ask('10.0.0.1'), ask('10.0.0.1'), ask('10.0.0.2'), ask('10.0.0.3')]).toEqual([
      'reply',
      'reply',
      'rate-source',
      'reply',
      'rate-global',
    ]);
  });

  it('refuses at construction an advertisement that cannot be encoded', () => {
    expect(() => new RequestHandler({ envelope: createEnvelope({ crypto }, clock), advertise: { ...advertise, name: 'n'.repeat(100) }, clock })).toThrow(/--name/);
  });

  it('never throws on arbitrary packets (fast-check)', () => {
    const hs = [handler(), handler(createEnvelope({ insecure: true }, clock))];
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.nat(1), (bytes, which) => {
        expect(hs[which]!.handle('10.0.0.1', bytes).action).toBe('drop');
      }),
      { numRuns: 2_000 },
    );
  });
});

describe('DiscoverySession', () => {
  const env = createEnvelope({ crypto }, clock);

  it('rejects a reply that echoes another nonce (a captured reply replayed into a later run)', () => {
    const earlier = new DiscoverySession(env);
    const reply = handler().handle('10.0.0.2', earlier.request());
    const later = new DiscoverySession(env);
    expect(reply.action).toBe('reply');
    if (reply.action !== 'reply') return;
    expect(earlier.receive('10.213.1.2', reply.data).accepted).toBe(true);
    const v = later.receive('10.213.1.2', reply.data);
    expect(!v.accepted && v.reason).toBe('nonce');
    expect(later.peers()).toEqual([]);
  });

  it('leaves out its own address, counts each peer once and fills in a wildcard host from the source', () => {
    const s = new DiscoverySession(env, ['10.213.1.2:9999']);
    const answer = (adv: typeof advertise): Buffer => {
      const r = new RequestHandler({ envelope: env, advertise: adv, clock, rateLimit: generous }).handle('x', s.request());
      if (r.action !== 'reply') throw new Error('no reply');
      return r.data;
    };
    expect(s.receive('10.213.1.2', answer(advertise))).toMatchObject({ accepted: false, reason: 'self' });
    const other = { ...advertise, host: '0.0.0.0', port: 10001 };
    expect(s.receive('10.213.1.7', answer(other))).toMatchObject({ accepted: true, isNew: true });
    expect(s.receive('10.213.1.7', answer(other))).toMatchObject({ accepted: true, isNew: false });
    expect(s.peers().map((p) => p.address)).toEqual(['10.213.1.7:10001']);
  });

  it('drops a request sent to it, and arbitrary bytes, without throwing (fast-check)', () => {
    const s = new DiscoverySession(env);
    expect(s.receive('1.1.1.1', s.request())).toMatchObject({ accepted: false, reason: 'not-reply' });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        expect(s.receive('1.1.1.1', bytes).accepted).toBe(false);
      }),
      { numRuns: 1_000 },
    );
  });
});

describe('DiscoveryResponder on a real loopback socket (unicast: loopback cannot broadcast)', () => {
  const open: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    for (const o of open.splice(0)) await o.close();
  });

  it('answers an authentic request to its real source and counts what it drops', async () => {
    const responder = await DiscoveryResponder.start({ crypto, advertise, host: '127.0.0.1', port: 0 });
    open.push(responder);
    const socket: DiscoverySocket = await openBroadcastSocket('127.0.0.1');
    open.push(socket);
    const session = new DiscoverySession(createEnvelope({ crypto }, clock));
    const got = new Promise<string>((resolve) =>
      socket.onMessage((data, from) => {
        const v = session.receive(from, data);
        if (v.accepted) resolve(v.peer.address);
      }),
    );
    socket.send(Buffer.from('junk'), responder.port, '127.0.0.1');
    socket.send(session.request(), responder.port, '127.0.0.1');
    expect(await got).toBe('10.213.1.2:9999');
    const stats = responder.stats();
    expect(stats.replies).toBe(1);
    expect(stats.dropped.malformed).toBe(1);
  });

  it('shares its port with a socket bound to a specific address (both with SO_REUSEADDR)', async () => {
    const first = await DiscoveryResponder.start({ insecure: true, advertise, host: '127.0.0.1', port: 0 });
    open.push(first);
    const second = await DiscoveryResponder.start({ insecure: true, advertise, port: first.port });
    open.push(second);
    expect(second.port).toBe(first.port);
  });
});
