// Stock y-websocket clients (npm `y-websocket` on Node with `ws`) against a 3-node cluster of real
// `tri node start` processes on 127.0.18.1-3: concurrent edits through two nodes converge, the
// CLI's writes reach connected clients and clients' edits reach the CLI, awareness crosses
// nodes, offline edits upload on reconnect, a schema-violating update is refused whole, and the
// client token rules (missing, read-only, other documents, expired).
import * as Y from 'yjs';
import { afterEach, describe, expect, it } from 'vitest';
import { describeResult, sleep, useStartedCluster, waitFor, type TriCluster } from './lib/index.js';
import { stockClient, synced, upgradeStatus, type StockClient } from './lib/yjs-client.js';

const ADDRESSES = ['127.0.18.1', '127.0.18.2', '127.0.18.3'];
let cluster!: TriCluster;
useStartedCluster(() => ({ addresses: ADDRESSES, profile: 'lan' }), (c) => (cluster = c));

const clients: StockClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.destroy();
});

let token = '';
async function mkToken(args: string[] = []): Promise<string> {
  const r = await cluster.cli(['token', 'create', ...args]);
  expect(r.code, describeResult(r)).toBe(0);
  return r.stdout.trim();
}

async function client(host: string, kind: 'doc' | 'agent', room: string, opts: { token?: string; tokenAsProtocol?: boolean } = {}): Promise<StockClient> {
  if (!token) token = await mkToken();
  const c = stockClient(`ws://${host}:10080/yjs/${kind}`, room, { token: opts.token ?? token, tokenAsProtocol: opts.tokenAsProtocol });
  clients.push(c);
  await synced(c);
  return c;
}

interface EpisodeJson {
  id: string;
  task: string;
  notes: string;
}

async function show(host: string, agent: string): Promise<EpisodeJson[]> {
  const r = await cluster.cli(['memory', 'show', '--at', host, '--agent', agent, '--json']);
  expect(r.code, describeResult(r)).toBe(0);
  return JSON.parse(r.stdout) as EpisodeJson[];
}

function episodeNotes(doc: Y.Doc, id: string): Y.Text | undefined {
  const ep = doc.getMap<Y.Map<unknown>>('episodes').get(id);
  const notes = ep?.get('notes');
  return notes instanceof Y.Text ? notes : undefined;
}

describe('stock y-websocket clients on a 3-node cluster', () => {
  it('clients on two nodes edit one document concurrently and converge; a third node serves the merged state', async () => {
    const a = await client(ADDRESSES[0]!, 'doc', 'shared');
    const b = await client(ADDRESSES[1]!, 'doc', 'shared', { tokenAsProtocol: true });
    for (let i = 0; i < 30; i++) {
      a.doc.getText('t').insert(0, `a${i} `);
      b.doc.getText('t').insert(0, `b${i} `);
      b.doc.getMap('m').set(`k${i % 5}`, i);
      if (i % 10 === 0) await sleep(20);
    }
    await Promise.all([a.waitEchoed(), b.waitEchoed()]);
    await waitFor('both clients to hold the same text', async () => ({ ok: a.doc.getText('t').toString() === b.doc.getText('t').toString(), value: undefined }), { timeoutMs: 10_000 });
    const text = a.doc.getText('t').toString();
    for (let i = 0; i < 30; i++) {
      expect(text).toContain(`a${i} `);
      expect(text).toContain(`b${i} `);
    }
    const c = await client(ADDRESSES[2]!, 'doc', 'shared');
    expect(c.doc.getText('t').toString()).toBe(text);
    expect(c.doc.getMap('m').toJSON()).toEqual(b.doc.getMap('m').toJSON());
  });

  it('an episode written with `tri memory add` reaches a connected client; the client\'s note edit is in `tri memory show` on every node', async () => {
    const watcher = await client(ADDRESSES[1]!, 'agent', 'scribe');
    const add = await cluster.cli(['memory', 'add', '--at', ADDRESSES[0]!, '--agent', 'scribe', '--task', 'summarise', '--outcome', 'ok', '--note', 'first draft', '--json']);
    expect(add.code, describeResult(add)).toBe(0);
    const id = (JSON.parse(add.stdout) as { id: string }).id;
    await waitFor('the episode in the client', async () => ({ ok: episodeNotes(watcher.doc, id)?.toString() === 'first draft', value: undefined }), { timeoutMs: 10_000 });

    const editor = await client(ADDRESSES[2]!, 'agent', 'scribe');
    episodeNotes(editor.doc, id)!.insert('first draft'.length, ' -- reviewed by a person');
    await editor.waitEchoed();
    // Echoed means a majority stored it: every node shows it now (the third converges too).
    for (const host of ADDRESSES) {
      await waitFor(`the edit on ${host}`, async () => {
        const eps = await show(host, 'scribe');
        return { ok: eps.find((e) => e.id === id)?.notes === 'first draft -- reviewed by a person', value: undefined, detail: JSON.stringify(eps) };
      }, { timeoutMs: 10_000, intervalMs: 300 });
    }
    await waitFor('the edit back in the first client', async () => ({ ok: episodeNotes(watcher.doc, id)?.toString() === 'first draft -- reviewed by a person', value: undefined }), { timeoutMs: 10_000 });
  });

  it('an update outside the memory schema is refused whole: permission denied with the reason, a 44xx close, nothing applied', async () => {
    const bad = await client(ADDRESSES[0]!, 'agent', 'strict');
    const good = await client(ADDRESSES[1]!, 'agent', 'strict');
    bad.doc.transact(() => {
      bad.doc.getMap('episodes').set('x', 1); // a known root, with a plain value: allowed content...
      bad.doc.getXmlFragment('evil').insert(0, [new Y.XmlText('boo')]); // ...and a foreign root with XML: refused whole
    });
    await waitFor('the refusal', async () => ({ ok: bad.closes.some((c) => c.code >= 4400 && c.code < 4500), value: undefined, detail: JSON.stringify({ closes: bad.closes, denied: bad.denied }) }), { timeoutMs: 10_000, intervalMs: 100 });
    expect(bad.closes[0]!.code).toBe(4422);
    expect(bad.denied.join(' ')).toMatch(/root "evil"|not allowed/);
    // The stock client gives up on a 44xx close.
    await sleep(1500);
    expect(bad.provider.shouldConnect).toBe(false);
    // Not even the allowed half was applied anywhere.
    const probe = await client(ADDRESSES[2]!, 'agent', 'strict');
    expect(probe.doc.getMap('episodes').has('x')).toBe(false);
    expect(good.doc.getMap('episodes').has('x')).toBe(false);
    const s = await cluster.node('n1').status();
    expect(s?.state).toBe('ACTIVE');
  });

  it('awareness reaches clients on other nodes, and leaves with its client', async () => {
    const a = await client(ADDRESSES[0]!, 'doc', 'presence');
    const b = await client(ADDRESSES[2]!, 'doc', 'presence');
    a.provider.awareness.setLocalStateField('user', { name: 'ada' });
    await waitFor('ada on b', async () => ({ ok: [...b.provider.awareness.getStates().values()].some((s) => (s as { user?: { name?: string } }).user?.name === 'ada'), value: undefined }), { timeoutMs: 10_000, intervalMs: 100 });
    const id = a.doc.clientID;
    a.provider.disconnect();
    await waitFor('ada gone from b', async () => ({ ok: !b.provider.awareness.getStates().has(id), value: undefined }), { timeoutMs: 10_000, intervalMs: 100 });
  });

  it('awareness goes only to the members with clients on the document; a member whose first client arrives gets the others\' states at once', async () => {
    const relays = async (name: string): Promise<{ relaysSent: number; relaysReceived: number }> => {
      const s = (await cluster.node(name).status()) as { yjs?: { awareness?: { relaysSent: number; relaysReceived: number } } } | undefined;
      const a = s?.yjs?.awareness;
      if (!a) throw new Error(`no yjs.awareness in the status of ${name}`);
      return a;
    };
    const a = await client(ADDRESSES[0]!, 'doc', 'scoped');
    const b = await client(ADDRESSES[1]!, 'doc', 'scoped');
    const n3Before = (await relays('n3')).relaysReceived;
    const n2Before = (await relays('n2')).relaysReceived;
    for (let i = 0; i < 5; i++) {
      a.provider.awareness.setLocalStateField('cursor', i);
      await waitFor(`cursor ${i} on b`, async () => ({ ok: (b.provider.awareness.getStates().get(a.doc.clientID) as { cursor?: number } | undefined)?.cursor === i, value: undefined }), { timeoutMs: 10_000, intervalMs: 50 });
    }
    // n2 took the relays (its client saw every cursor); n3, with no client on the document, was sent none.
    expect((await relays('n2')).relaysReceived).toBeGreaterThanOrEqual(n2Before + 5);
    expect((await relays('n3')).relaysReceived).toBe(n3Before);
    // A client on n3: its node announces the document, n1 answers with its client's state at once
    // (well before the stock client's 15 s renewal).
    a.provider.awareness.setLocalStateField('user', { name: 'ada' });
    const t0 = Date.now();
    const c = await client(ADDRESSES[2]!, 'doc', 'scoped');
    await waitFor('ada on the new client of n3', async () => ({ ok: (c.provider.awareness.getStates().get(a.doc.clientID) as { user?: { name?: string } } | undefined)?.user?.name === 'ada', value: undefined }), { timeoutMs: 5_000, intervalMs: 50 });
    expect(Date.now() - t0).toBeLessThan(5_000);
    a.provider.awareness.setLocalStateField('cursor', 99);
    await waitFor('cursor 99 on c', async () => ({ ok: (c.provider.awareness.getStates().get(a.doc.clientID) as { cursor?: number } | undefined)?.cursor === 99, value: undefined }), { timeoutMs: 10_000, intervalMs: 50 });
    expect((await relays('n3')).relaysReceived).toBeGreaterThan(n3Before);
  });

  it('with clients on another node too, the writer\'s node delivers to its own clients every update in order (a turn\'s first at once, the rest at its end, CLI writes after their pushes)', async () => {
    const a = await client(ADDRESSES[0]!, 'doc', 'fanout');
    const locals = [await client(ADDRESSES[0]!, 'doc', 'fanout'), await client(ADDRESSES[0]!, 'doc', 'fanout'), await client(ADDRESSES[0]!, 'doc', 'fanout')];
    const remote = await client(ADDRESSES[1]!, 'doc', 'fanout');
    await sleep(300); // node 1's interest in the document reaches node 0 (its relays go there, and remote-origin updates queue behind local ones)
    for (let i = 0; i < 40; i++) {
      a.doc.getArray<string>('l').push([`a${i}`]);
      if (i % 4 === 0) remote.doc.getArray<string>('l').push([`r${i}`]); // remote-origin updates queue behind waiting deliveries
      if (i % 10 === 0) await sleep(5);
    }
    await Promise.all([a.waitEchoed(), remote.waitEchoed()]);
    const want = a.doc.getArray<string>('l').toArray();
    expect(want).toHaveLength(50);
    for (const c of [...locals, remote]) {
      await waitFor('a reader to hold every item', async () => ({ ok: c.doc.getArray<string>('l').length === 50, value: undefined }), { timeoutMs: 10_000 });
      expect(c.doc.getArray<string>('l').toArray()).toEqual(want);
    }
    // Each local reader got the updates in an order it could apply one by one: none ever waited on a missing dependency.
    for (const c of locals) {
      const replay = new Y.Doc();
      for (const u of c.received) {
        Y.applyUpdate(replay, u);
        expect(replay.store.pendingStructs).toBeNull();
      }
      expect(replay.getArray<string>('l').toArray()).toEqual(want);
    }
  });

  it('a client\'s edit is relayed to the other node\'s clients before it is stored, and each reader gets it once; a reader that builds on relayed edits is echoed', async () => {
    type RelayStatus = { relaysSent: number; relaysReceived: number; duplicatesSkipped: number };
    const relays = async (name: string): Promise<RelayStatus> => {
      const s = (await cluster.node(name).status()) as { yjs?: { updates?: RelayStatus } } | undefined;
      const a = s?.yjs?.updates;
      if (!a) throw new Error(`no yjs.updates in the status of ${name}`);
      return a;
    };
    const a = await client(ADDRESSES[0]!, 'doc', 'relayed');
    const b = await client(ADDRESSES[1]!, 'doc', 'relayed');
    await sleep(300); // n2's interest in the document reaches n1
    const [sent0, got0] = [await relays('n1'), await relays('n2')];
    const before = b.received.length;
    for (let i = 0; i < 20; i++) {
      a.doc.getMap<number>('m').set(`k${i}`, i);
      await waitFor(`k${i} on b`, async () => ({ ok: b.doc.getMap<number>('m').get(`k${i}`) === i, value: undefined }), { timeoutMs: 10_000, intervalMs: 5 });
      // b answers each edit with one built on it (an array item after a's): its node may not have a's edit yet.
      b.doc.getArray<number>('after').push([i]);
    }
    await Promise.all([a.waitEchoed(), b.waitEchoed()]);
    await sleep(500); // the pushes that follow the relays
    const [sent1, got1] = [await relays('n1'), await relays('n2')];
    expect(sent1.relaysSent - sent0.relaysSent).toBeGreaterThanOrEqual(20);
    expect(got1.relaysReceived - got0.relaysReceived).toBeGreaterThanOrEqual(20);
    // The push of each relayed edit found it already shown: b got each of a's 20 updates once.
    expect(got1.duplicatesSkipped - got0.duplicatesSkipped).toBeGreaterThanOrEqual(20);
    const fromA = b.received.slice(before).filter((u) => Y.parseUpdateMeta(u).to.has(a.doc.clientID));
    expect(fromA).toHaveLength(20);
    // Everything b built on relayed edits was stored (echoed above) and is on a third node.
    const c = await client(ADDRESSES[2]!, 'doc', 'relayed');
    expect(c.doc.getArray<number>('after').toArray()).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(c.doc.getMap<number>('m').size).toBe(20);
  });

  it('edits made offline upload when the client reconnects (to another node)', async () => {
    const a = await client(ADDRESSES[0]!, 'doc', 'offline');
    const b = await client(ADDRESSES[1]!, 'doc', 'offline');
    a.doc.getText('t').insert(0, 'online ');
    await a.waitEchoed();
    a.provider.disconnect();
    a.doc.getText('t').insert(0, 'offline ');
    await sleep(300);
    expect(b.doc.getText('t').toString()).toBe('online ');
    a.provider.serverUrl = `ws://${ADDRESSES[2]!}:10080/yjs/doc`;
    a.provider.connect();
    await a.waitEchoed();
    await waitFor('the offline edit on b', async () => ({ ok: b.doc.getText('t').toString() === 'offline online ', value: undefined, detail: b.doc.getText('t').toString() }), { timeoutMs: 10_000 });
  });

  it('tokens: none or a bad one is refused with 401, a token for other documents with 403, an expired one with 401', async () => {
    const url = `ws://${ADDRESSES[0]!}:10080/yjs/doc/tok`;
    expect((await upgradeStatus(url)).status).toBe(401);
    expect((await upgradeStatus(`${url}?token=tri1.e30.AAAA`)).status).toBe(401);
    const scoped = await mkToken(['--docs', 'doc/public-*']);
    expect((await upgradeStatus(`${url}?token=${scoped}`)).status).toBe(403);
    expect((await upgradeStatus(`ws://${ADDRESSES[0]!}:10080/yjs/doc/public-1?token=${scoped}`)).status).toBe(101);
    expect((await upgradeStatus(url, [`tri-token.${scoped}`])).status).toBe(403);
    const shortLived = await mkToken(['--ttl', '1s']);
    expect((await upgradeStatus(`${url}?token=${shortLived}`)).status).toBe(101);
    await sleep(1200);
    const expired = await upgradeStatus(`${url}?token=${shortLived}`);
    expect(expired.status).toBe(401);
    expect(expired.body).toMatch(/expired/);
    expect((await upgradeStatus(`ws://${ADDRESSES[0]!}:10080/yjs/nowhere/x?token=${scoped}`)).status).toBe(404);
  });

  it('a read-only token syncs and watches, but its updates are not applied and the client is told', async () => {
    const writer = await client(ADDRESSES[0]!, 'doc', 'ro');
    writer.doc.getText('t').insert(0, 'from the writer');
    await writer.waitEchoed();
    const ro = await client(ADDRESSES[1]!, 'doc', 'ro', { token: await mkToken(['--read-only']) });
    expect(ro.doc.getText('t').toString()).toBe('from the writer');
    ro.doc.getText('t').insert(0, 'sneaky ');
    await waitFor('the read-only notice', async () => ({ ok: ro.denied.some((d) => /read-only/.test(d)), value: undefined }), { timeoutMs: 10_000, intervalMs: 100 });
    writer.doc.getText('t').insert(0, '+');
    await writer.waitEchoed();
    await waitFor('the writer\'s next edit on the read-only client', async () => ({ ok: ro.doc.getText('t').toString().includes('+'), value: undefined }), { timeoutMs: 10_000 });
    expect(writer.doc.getText('t').toString()).toBe('+from the writer');
    const fresh = await client(ADDRESSES[2]!, 'doc', 'ro');
    expect(fresh.doc.getText('t').toString()).toBe('+from the writer');
  });
});
