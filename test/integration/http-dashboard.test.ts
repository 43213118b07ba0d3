// The node's HTTP face on real sockets: /status, /metrics and the dashboard page rendered in
// headless Chromium (Debian's package, driven by playwright-core; no downloaded browser).
// Three nodes run in this process through the public startNode API, on 127.0.4.x.
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { startNode, generateKey, type ClusterNode } from '../../src/index.js';
import { silentLogger } from '../../src/node/logger.js';
import { httpGet, httpGetJson } from '../../src/util/http-get.js';
import http from 'node:http';
import { createClientToken } from '../../src/security/client-token.js';
import { keyId } from '../../src/security/kdf.js';
import { parseKey } from '../../src/security/keyring.js';
import { Placement } from '../../src/placement/index.js';

const CHROMIUM = '/usr/bin/chromium';
const HAS_CHROMIUM = existsSync(CHROMIUM);
// .ci/run installs Debian's chromium; elsewhere say loudly that the browser check did not run.
if (!HAS_CHROMIUM) console.warn('SKIPPING the dashboard browser test: /usr/bin/chromium is missing (apt-get install chromium)');
const hosts = ['127.0.4.1', '127.0.4.2', '127.0.4.3'];
let nodes: ClusterNode[] = [];
let clusterKey = '';

async function until<T>(check: () => Promise<T | undefined> | T | undefined, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  const key = (clusterKey = generateKey());
  for (const [i, bind] of hosts.entries()) {
    nodes.push(await startNode({ name: `h${i + 1}`, bind, key, join: i === 0 ? [] : [`${hosts[0]}:9999`], profile: 'local', role: i === 0 ? 'coordinator' : 'hybrid', logger: silentLogger() }));
  }
  await until(() => (nodes.every((n) => n.members().filter((m) => m.state === 'ACTIVE').length === 3) ? true : undefined), 20_000);
});

afterAll(async () => {
  await Promise.all(nodes.map((n) => n.stop(100)));
  nodes = [];
});

describe('node HTTP', () => {
  it('/status is JSON with the members array, quorum and memory', async () => {
    await nodes[1]!.memory('web-agent').addEpisode({ task: 'fetch', outcome: 'ok' });
    const s = (await httpGetJson(`http://${hosts[0]}:10080/status`)) as { name: string; state: string; members: { name: string; state: string }[]; quorum: { writable: boolean; voters: number }; memory: { documents: number; agents: number } };
    expect(s.name).toBe('h1');
    expect(s.state).toBe('ACTIVE');
    expect(s.members.map((m) => m.name).sort()).toEqual(['h1', 'h2', 'h3']);
    expect(s.quorum).toMatchObject({ writable: true, voters: 3 });
    await until(async () => {
      const again = (await httpGetJson(`http://${hosts[0]}:10080/status`)) as typeof s;
      // The agent's memory document replicated here (besides the task table every node holds).
      return again.memory.agents === 1 ? true : undefined;
    }, 5000);
  });

  it('/metrics is Prometheus text with members by state, quorum and write latency', async () => {
    const res = await httpGet(`http://${hosts[1]}:10080/metrics`);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    const text = res.body;
    expect(text).toMatch(/^tri_members\{state="ACTIVE",node="h2"\} 3$/m);
    expect(text).toMatch(/^tri_quorum\{what="writable",node="h2"\} 1$/m);
    expect(text).toMatch(/^tri_write_latency_seconds_count\{node="h2",outcome="acknowledged"\} [1-9]/m);
    // Running totals are typed counter (issue 14), and the process and storage figures are there.
    expect(text).toMatch(/^# TYPE tri_gossip_events_total counter$/m);
    expect(text).toMatch(/^# TYPE tri_bytes_total counter$/m);
    expect(text).toMatch(/^# TYPE tri_sync_messages_total counter$/m);
    expect(text).toMatch(/^process_resident_memory_bytes\{node="h2"\} [1-9]/m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds\{node="h2"\} /m);
    expect(text).toMatch(/^nodejs_heap_size_used_bytes\{node="h2"\} [1-9]/m);
    expect(text).toMatch(/^tri_documents\{where="held",node="h2"\} \d+$/m);
    expect(text).toMatch(/^tri_documents\{where="resident",node="h2"\} \d+$/m);
    expect(text).toMatch(/^tri_task_table_entries\{node="h2"\} \d+$/m);
    expect(text).toMatch(/^tri_data_dir_bytes\{node="h2"\} \d+$/m);
    expect(text).toMatch(/^# TYPE tri_retention_total counter$/m);
  });

  it('unknown paths are 404 and writes are refused', async () => {
    expect((await httpGet(`http://${hosts[0]}:10080/nope`)).status).toBe(404);
    const post = await new Promise<number>((resolve, reject) => {
      const req = http.request(`http://${hosts[0]}:10080/status`, { method: 'POST' }, (res) => resolve(res.statusCode ?? 0));
      req.on('error', reject);
      req.end();
    });
    expect(post).toBe(405);
  });

  it('/status allows no cross-origin reads; /cluster gathers the members\' views on the server side', async () => {
    const headers = await new Promise<http.IncomingHttpHeaders>((resolve, reject) => {
      http.get(`http://${hosts[0]}:10080/status`, { headers: { origin: 'http://evil.example' } }, (res) => {
        res.resume();
        resolve(res.headers);
      }).on('error', reject);
    });
    expect(headers['access-control-allow-origin']).toBeUndefined();
    const all = await until(async () => {
      const c = (await httpGetJson(`http://${hosts[0]}:10080/cluster`)) as { self: { name: string }; views: Record<string, { name: string } | null> };
      return Object.values(c.views).every((v) => v !== null) && Object.keys(c.views).length === 2 ? c : undefined;
    }, 10_000);
    expect(all.self.name).toBe('h1');
    expect(Object.values(all.views).map((v) => v!.name).sort()).toEqual(['h2', 'h3']);
  });

  it('key fingerprints only with a client token (?token= or Authorization: Bearer); a bad token is refused; /cluster shows none', async () => {
    type Sec = { security: { encrypted: boolean; keys?: string[]; keysHidden?: string } };
    const url = `http://${hosts[0]}:10080/status`;
    const fingerprint = keyId(parseKey(clusterKey));
    const open = JSON.parse((await httpGet(url)).body) as Sec;
    expect(open.security.encrypted).toBe(true);
    expect(open.security.keys).toBeUndefined();
    expect(open.security.keysHidden).toMatch(/tri token create/);
    expect(JSON.stringify(open)).not.toContain(fingerprint);
    const token = createClientToken(parseKey(clusterKey), { readOnly: true, ttlMs: 60_000, now: Date.now() });
    expect((JSON.parse((await httpGet(`${url}?token=${encodeURIComponent(token)}`)).body) as Sec).security.keys).toEqual([fingerprint]);
    const bearer = await new Promise<string>((resolve, reject) => {
      http.get(url, { headers: { authorization: `Bearer ${token}` } }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => resolve(body));
      }).on('error', reject);
    });
    expect((JSON.parse(bearer) as Sec).security.keys).toEqual([fingerprint]);
    const other = createClientToken(parseKey(generateKey()), { ttlMs: 60_000, now: Date.now() });
    for (const bad of [other, 'not-a-token', token.slice(0, -2)]) {
      const r = await httpGet(`${url}?token=${encodeURIComponent(bad)}`);
      expect(r.status, r.body).toBe(401);
      expect(r.body).toMatch(/token refused: /);
      expect(r.body).not.toContain(fingerprint);
    }
    const cluster = (await httpGet(`http://${hosts[0]}:10080/cluster`)).body;
    expect(cluster).toContain('"keysHidden"');
    expect(cluster).not.toContain(fingerprint);
  });

  /** web-agent's replica set computed here from the node's voters and factor, and the configuration. */
  async function expectedPlacement(): Promise<{ replicas: string[]; epoch: number }> {
    const s = (await httpGetJson(`http://${hosts[0]}:10080/status`)) as { voters: string[]; quorum: { configuration: number }; placement: { replicationFactor: number } };
    return { replicas: new Placement(s.voters.map((name) => ({ name })), s.placement.replicationFactor).replicas('web-agent'), epoch: s.quorum.configuration };
  }

  it('/placement answers where an agent\'s memory lives (as tri memory placement); agent ids only with a token; bad input refused', async () => {
    type P = { agent: string; replicas: string[]; epoch: number; moving: boolean; heldHere: boolean; pending: unknown; enforced: boolean };
    const base = `http://${hosts[0]}:10080/placement`;
    const want = await expectedPlacement();
    expect(want.epoch).toBeGreaterThan(0);
    const p = (await httpGetJson(`${base}?agent=web-agent`)) as P;
    expect(p).toMatchObject({ agent: 'web-agent', replicas: want.replicas, epoch: want.epoch, moving: false, enforced: true, pending: null });
    expect(typeof p.heldHere).toBe('boolean');
    for (const bad of ['bad%20id', 'x'.repeat(129), '%3Cscript%3E']) {
      const r = await httpGet(`${base}?agent=${bad}`);
      expect(r.status, r.body).toBe(400);
      expect(r.body).toMatch(/agent id is not valid/);
    }
    const open = JSON.parse((await httpGet(base)).body) as { agents: string[] | null; agentsHidden?: string };
    expect(open.agents).toBeNull();
    expect(open.agentsHidden).toMatch(/tri token create/);
    const token = createClientToken(parseKey(clusterKey), { readOnly: true, ttlMs: 60_000, now: Date.now() });
    const listed = JSON.parse((await httpGet(`${base}?token=${encodeURIComponent(token)}`)).body) as { agents: string[]; truncated: boolean };
    expect(listed.agents).toContain('web-agent');
    expect(listed.truncated).toBe(false);
    const refused = await httpGet(`${base}?agent=web-agent&token=not-a-token`);
    expect(refused.status).toBe(401);
    expect(refused.body).not.toContain('replicas');
  });

  it.runIf(HAS_CHROMIUM)('the dashboard renders every member in headless Chromium', async () => {
    let browser: Browser | undefined;
    try {
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        // Browsers block port 10080 (the design's default) as unsafe unless explicitly allowed.
        args: ['--explicitly-allowed-ports=10080', '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      });
      const page = await browser.newPage({ viewport: { width: 1000, height: 600 } });
      await page.goto(`http://${hosts[0]}:10080/`);
      await page.waitForFunction(() => document.querySelectorAll('#graph g.member').length === 3, undefined, { timeout: 15_000 });
      // Each member sees the others alive, so the ring has all three edges.
      await page.waitForFunction(() => document.querySelectorAll('#graph line').length === 3, undefined, { timeout: 15_000 });
      expect(await page.locator('#members tbody tr').count()).toBe(3);
      expect(await page.locator('#self').innerText()).toContain('h1');
      const shot = await page.screenshot();
      // A real render: a PNG of the viewport, large because the page has content in colour.
      expect(shot.subarray(1, 4).toString()).toBe('PNG');
      expect(shot.length).toBeGreaterThan(10_000);

      // Agent memory: picked from the list (the page passes its ?token= on), it shows the replica set, configuration and moving, and rings the replicas.
      const want = await expectedPlacement();
      const token = createClientToken(parseKey(clusterKey), { readOnly: true, ttlMs: 60_000, now: Date.now() });
      await page.goto(`http://${hosts[0]}:10080/?token=${encodeURIComponent(token)}`);
      await page.waitForFunction(() => [...document.querySelectorAll('#agent-ids option')].some((o) => (o as HTMLOptionElement).value === 'web-agent'), undefined, { timeout: 15_000 });
      await page.waitForFunction(() => document.querySelectorAll('#graph g.member').length === 3, undefined, { timeout: 15_000 });
      await page.fill('#agent', 'web-agent');
      await page.click('#agent-form button');
      await page.waitForSelector('#p-replicas', { timeout: 15_000 });
      expect(await page.locator('#p-agent').innerText()).toBe('web-agent');
      expect(await page.locator('#p-replicas').innerText()).toBe(want.replicas.join(', '));
      expect(await page.locator('#p-epoch').innerText()).toBe(String(want.epoch));
      expect(await page.locator('#p-moving').innerText()).toBe('no');
      const ringed = await page.$$eval('#graph g.member.replica', (gs) => gs.map((g) => (g as SVGGElement).dataset.name ?? '').sort());
      expect(ringed).toEqual([...want.replicas].sort());
      // A bad id typed in shows the node's refusal, not a stale answer.
      await page.fill('#agent', 'bad id');
      await page.click('#agent-form button');
      await page.waitForFunction(() => /agent id is not valid/.test(document.getElementById('placement')!.textContent ?? ''), undefined, { timeout: 15_000 });
    } finally {
      await browser?.close();
    }
  });
});
