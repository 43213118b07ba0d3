// `tri token create`: prints a token verifiable with the key file's key; bad usage exits 2.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeResult, runTri } from './lib/index.js';
import { verifyClientToken } from '../../src/security/client-token.js';
import { generateKey } from '../../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'tri-token-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('tri token create', () => {
  it('prints a token signed with the key file, with the flags given', async () => {
    const key = generateKey();
    const keyFile = join(dir, 'k');
    writeFileSync(keyFile, key + '\n', { mode: 0o600 });
    const r = await runTri(['token', 'create', '--key-file', keyFile, '--read-only', '--docs', 'doc/*', '--ttl', '2h', '--json']);
    expect(r.code, describeResult(r)).toBe(0);
    const out = JSON.parse(r.stdout) as { token: string; readOnly: boolean; docs: string; expiresAt: string };
    expect(out).toMatchObject({ readOnly: true, docs: 'doc/*' });
    const v = verifyClientToken(out.token, [Buffer.from(key, 'base64')], Date.now());
    expect(v).toMatchObject({ ok: true, claims: { ro: true, docs: 'doc/*' } });
    expect(Date.parse(out.expiresAt) - Date.now()).toBeGreaterThan(7_000_000);
    const plain = await runTri(['token', 'create', '--key-file', keyFile]);
    expect(plain.stdout).toMatch(/^tri1\.[\w-]+\.[\w-]+\n$/);
  });

  it('bad usage exits 2 with a clear message', async () => {
    const none = await runTri(['token', 'create']);
    expect(none.code, describeResult(none)).toBe(2);
    expect(none.stderr).toMatch(/--key-file/);
    writeFileSync(join(dir, 'k2'), generateKey() + '\n', { mode: 0o600 });
    const ttl = await runTri(['token', 'create', '--key-file', join(dir, 'k2'), '--ttl', 'soon']);
    expect(ttl.code, describeResult(ttl)).toBe(2);
    expect(ttl.stderr).toMatch(/not a duration/);
  });
});
