// Issue 15 item 12: the README's embedding snippet runs as written (addresses moved to this
// suite's 127.0.15.121-122) and prints nothing on the program's stdout (the default logger writes
// to stderr); startNode with joinTimeoutMs rejects when no seed answers and frees its ports;
// NodeClient.connect defaults the RPC port as the CLI does.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createLogger, generateKey, NodeClient, startNode, TimeoutError } from '../../src/index.js';
import { REPO_ROOT, assertBuilt, httpGet } from './lib/index.js';

const run = promisify(execFile);

function readmeEmbeddingSnippet(): string {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Embedding'));
  const m = /```ts\n([\s\S]*?)```/.exec(section);
  if (!m) throw new Error('README.md has no ```ts block under "## Embedding"');
  return m[1]!;
}

describe('embedding', () => {
  it("the README's snippet runs as written and leaves stdout to the program", async () => {
    assertBuilt();
    const code = readmeEmbeddingSnippet().replaceAll('127.0.0.2', '127.0.15.121').replaceAll('127.0.0.3', '127.0.15.122');
    expect(code).toContain("from 'trinity-cluster'");
    // Inside the package, so `trinity-cluster` resolves to this build (package self-reference).
    const file = join(REPO_ROOT, `.readme-embed-${process.pid}.mjs`);
    const cwd = mkdtempSync(join(tmpdir(), 'tri-embed-'));
    writeFileSync(file, code + "\nconsole.log('snippet done');\n");
    try {
      const { stdout, stderr } = await run(process.execPath, [file], { cwd, timeout: 60_000 });
      expect(stdout).toBe('snippet done\n');
      expect(stderr).toMatch(/"msg":"node n1 started/);
      expect(stderr).toMatch(/"msg":"node n2 started/);
    } finally {
      rmSync(file, { force: true });
      rmSync(cwd, { recursive: true, force: true });
    }
  }, 90_000);

  it('startNode with joinTimeoutMs rejects with TimeoutError when no seed answers, and frees its ports', async () => {
    const logger = createLogger({ level: 'silent' });
    const key = generateKey();
    const t0 = Date.now();
    await expect(startNode({ name: 'lonely', bind: '127.0.15.123', key, join: ['127.0.15.129:9999'], joinTimeoutMs: 1500, httpPort: 0, logger })).rejects.toThrow(TimeoutError);
    expect(Date.now() - t0).toBeLessThan(10_000);
    // The same ports are free again: a founding node binds them, and a client finds it at the default RPC port.
    const n = await startNode({ name: 'lonely', bind: '127.0.15.123', key, httpPort: 0, logger });
    try {
      const client = await NodeClient.connect({ at: '127.0.15.123', key });
      try {
        expect((await client.members()).map((m) => m.name)).toEqual(['lonely']);
      } finally {
        await client.close();
      }
    } finally {
      await n.stop();
    }
  }, 30_000);

  it('httpBind serves /status and /health on its own address only', async () => {
    const n = await startNode({ name: 'web', bind: '127.0.15.124', httpBind: '127.0.15.125', httpPort: 10080, insecure: true, logger: createLogger({ level: 'silent' }) });
    try {
      const health = await httpGet('http://127.0.15.125:10080/health', 2000);
      expect(JSON.parse(health ?? 'null')).toMatchObject({ name: 'web', state: 'ACTIVE', writable: true, healthy: true });
      expect(await httpGet('http://127.0.15.124:10080/status', 2000)).toBeUndefined();
    } finally {
      await n.stop();
    }
  }, 30_000);
});
