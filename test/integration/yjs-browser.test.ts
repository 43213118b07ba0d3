// examples/live-memory in headless Chromium (Debian's package through playwright-core): the page
// loads the stock y-websocket client, shows an episode written with `tri memory add`, a person's
// edit of its notes shows "replicated" once echoed, and the edit is in `tri memory show` on every
// node of a 3-process cluster (127.0.18.41-43).
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { describeResult, useStartedCluster, waitFor, type TriCluster } from './lib/index.js';

const CHROMIUM = '/usr/bin/chromium';
const HAS_CHROMIUM = existsSync(CHROMIUM);
if (!HAS_CHROMIUM) console.warn('SKIPPING the live-memory browser test: /usr/bin/chromium is missing (apt-get install chromium)');
const ADDRESSES = ['127.0.18.41', '127.0.18.42', '127.0.18.43'];

describe.runIf(HAS_CHROMIUM)('live-memory page in headless Chromium', () => {
  let cluster!: TriCluster;
  useStartedCluster(() => ({ addresses: ADDRESSES, profile: 'lan' }), (c) => (cluster = c));

  it('edits an episode\'s notes through the stock client; the edit is on every node', async () => {
    const add = await cluster.cli(['memory', 'add', '--at', ADDRESSES[0]!, '--agent', 'researcher', '--task', 'survey', '--outcome', 'ok', '--note', 'agent draft', '--json']);
    expect(add.code, describeResult(add)).toBe(0);
    const id = (JSON.parse(add.stdout) as { id: string }).id;
    const tok = await cluster.cli(['token', 'create', '--docs', 'agent/researcher']);
    expect(tok.code, describeResult(tok)).toBe(0);
    const { serve } = await import('../../examples/live-memory/serve.mjs');
    const server = await serve({ port: 8080, host: ADDRESSES[0]! });
    let browser: Browser | undefined;
    try {
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--explicitly-allowed-ports=10080', '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      });
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`http://${ADDRESSES[0]}:8080/?node=${ADDRESSES[1]}:10080&agent=researcher&token=${encodeURIComponent(tok.stdout.trim())}`);
      const area = page.locator(`.episode[data-id="${id}"] textarea`);
      await area.waitFor({ timeout: 15_000 });
      expect(await area.inputValue()).toBe('agent draft');
      await area.click();
      await page.keyboard.press('End');
      await page.keyboard.type(' + a person\'s edit');
      await page.waitForFunction(() => document.getElementById('status')?.textContent === 'replicated', undefined, { timeout: 15_000 });
      for (const host of ADDRESSES) {
        await waitFor(`the edit on ${host}`, async () => {
          const r = await cluster.cli(['memory', 'show', '--at', host, '--agent', 'researcher', '--json']);
          const eps = JSON.parse(r.stdout) as Array<{ id: string; notes: string }>;
          return { ok: eps.find((e) => e.id === id)?.notes === "agent draft + a person's edit", value: undefined, detail: r.stdout };
        }, { timeoutMs: 10_000, intervalMs: 300 });
      }
      // And an agent's write reaches the open page at once.
      const more = await cluster.cli(['memory', 'add', '--at', ADDRESSES[2]!, '--agent', 'researcher', '--task', 'follow-up', '--outcome', 'ok']);
      expect(more.code, describeResult(more)).toBe(0);
      await page.waitForFunction(() => document.querySelectorAll('.episode').length === 2, undefined, { timeout: 10_000 });
      expect(errors).toEqual([]);
    } finally {
      await browser?.close();
      await new Promise((r) => server.close(r));
    }
  });
});
