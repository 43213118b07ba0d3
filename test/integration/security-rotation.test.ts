// Key rotation on a running 5-node cluster with `tri keys install | use | remove | list`, while it
// gossips: no member is lost or suspected during it (every view is polled throughout and the
// gossip suspicion counters must not move), the ordering checks refuse unsafe steps, a node that
// was down during the rotation (it has only the old key) is kept out afterwards, and the new
// keyring survives a restart. Real processes on 127.0.2.21-26 (build first: npx tsc -p tsconfig.json).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyId } from '../../src/security/kdf.js';
import { generateKey, parseKey } from '../../src/security/keyring.js';
import type { KeyOpReply } from '../../src/node/keyring-rpc.js';
import { Harness, clientToken, requireBuild, sleep, status, tri, waitFor, waitForView, type NodeProc } from './security-harness.js';

const NAMES = ['n1', 'n2', 'n3', 'n4', 'n5'];
const ip = (i: number): string => `127.0.2.${20 + i}`;
const IPS = NAMES.map((_, i) => ip(i + 1));
const LATE = { name: 'n6', ip: ip(6) };

describe('cluster-wide key rotation', () => {
  const h = new Harness();
  const oldKey = generateKey();
  const newKey = generateKey();
  const oldId = keyId(parseKey(oldKey));
  const newId = keyId(parseKey(newKey));
  let oldFile: string;
  let newFile: string;
  const procs: Record<string, NodeProc> = {};

  beforeAll(async () => {
    requireBuild();
    await h.explain((async () => {
      oldFile = h.keyFile('old.key', oldKey);
      newFile = h.keyFile('new.key', newKey);
      procs.n1 = h.start('n1', IPS[0]!, { keyFile: oldFile });
      await waitForView(IPS[0]!, ['n1']);
      // Membership (SWIM) is what this file is about; a joiner's memory catch-up (SYNCING) is not
      // awaited, so the setup does not depend on how fast snapshots go on a loaded machine.
      for (let i = 1; i < 5; i++) procs[NAMES[i]!] = h.start(NAMES[i]!, IPS[i]!, { keyFile: oldFile, join: [`${IPS[0]}:9999`] });
      procs.n6 = h.start(LATE.name, LATE.ip, { keyFile: oldFile, join: [`${IPS[0]}:9999`] });
      await Promise.all([...IPS, LATE.ip].map((a) => waitForView(a, [...NAMES, LATE.name], 50_000, false)));
      // n6 goes down before the rotation, so it keeps only the old key (in its data directory).
      await h.stop(procs.n6!);
      await Promise.all(IPS.map((a) => waitForView(a, NAMES, 20_000, false)));
      // Key operations go to every member not known to be gone (suspects included: they may be
      // alive), so the rotation starts once every view holds n6 for left or dead, not merely
      // not alive (a loaded machine can take a moment to spread the leave).
      await Promise.all(
        IPS.map((a) =>
          waitFor(
            `${a} to hold ${LATE.name} for left or dead`,
            async () => {
              const m = (await status(a))?.members.find((x) => x.name === LATE.name);
              return m === undefined || m.swimState === 'left' || m.swimState === 'dead';
            },
            20_000,
          ),
        ),
      );
    })());
  }, 85_000);

  afterAll(async () => {
    await h.killAll();
    h.cleanup();
  });

  it('install -> use -> remove reaches every member with no member lost or suspected', async () => {
    const suspicionsBefore = await Promise.all(IPS.map(async (a) => (await status(a))!.gossip.suspicions!));
    // Watch every view throughout the rotation.
    const violations: string[] = [];
    let observations = 0;
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        for (const a of IPS) {
          const s = await status(a, 3000);
          if (!s) continue; // an HTTP timeout on a saturated machine says nothing about membership
          observations++;
          for (const n of NAMES) {
            const m = s.members.find((x) => x.name === n);
            // Lost or suspected is SWIM's verdict; the lifecycle a member reports (ACTIVE, SYNCING...) is not this test's concern.
            if (m?.swimState !== 'alive') violations.push(`${s.name} saw ${n} as ${m?.swimState ?? 'missing'}`);
          }
        }
        await sleep(150);
      }
    })();

    const run = async (args: string[]): Promise<KeyOpReply> => {
      const r = await tri([...args, '--json']);
      expect(r.stderr, `tri ${args.join(' ')}\nstdout: ${r.stdout}`).toBe('');
      expect(r.code).toBe(0);
      return JSON.parse(r.stdout) as KeyOpReply;
    };

    // Ordering checks: `use` before `install` is refused, and nothing changes.
    const early = await tri(['keys', 'use', newFile, '--at', IPS[2]!, '--key-file', oldFile]);
    expect(early.code).toBe(1);
    expect(early.stderr).toMatch(/not installed/);

    const installed = await run(['keys', 'install', newFile, '--at', IPS[0]!, '--key-file', oldFile]);
    expect(installed.failed).toBe(0);
    expect(installed.results.map((r) => r.node)).toEqual(NAMES);
    for (const r of installed.results) expect(r.keys).toEqual({ primary: oldId, installed: [oldId, newId] });
    await sleep(1500);

    // Removing the key still in use everywhere is refused (the primary can never be removed).
    const tooEarly = await tri(['keys', 'remove', oldFile, '--at', IPS[1]!, '--key-file', oldFile]);
    expect(tooEarly.code).toBe(1);
    expect(tooEarly.stderr).toMatch(/primary/);

    const used = await run(['keys', 'use', newFile, '--at', IPS[2]!, '--key-file', oldFile]);
    expect(used.failed).toBe(0);
    for (const r of used.results) expect(r.keys?.primary).toBe(newId);
    await sleep(1500);

    const removeNew = await tri(['keys', 'remove', newFile, '--at', IPS[3]!, '--key-file', newFile]);
    expect(removeNew.code).toBe(1);
    expect(removeNew.stderr).toMatch(/primary key .* cannot be removed/);

    const removed = await run(['keys', 'remove', oldFile, '--at', IPS[1]!, '--key-file', newFile]);
    expect(removed.failed).toBe(0);
    expect(removed.results).toHaveLength(5);
    for (const r of removed.results) expect(r.keys).toEqual({ primary: newId, installed: [newId] });

    const listed = await run(['keys', 'list', '--at', IPS[4]!, '--key-file', newFile]);
    expect(listed.keys).toEqual([{ keyId: newId, installed: 5, primary: 5 }]);

    // The old key no longer opens anything: not the CLI's TLS, not gossip.
    const stale = await tri(['nodes', '--at', IPS[0]!, '--key-file', oldFile]);
    expect(stale.code).toBe(1);

    await sleep(3000); // a few more probe rounds and push-pulls on the new key alone
    watching = false;
    await watcher;
    expect(violations).toEqual([]);
    expect(observations).toBeGreaterThan(20);
    const suspicionsAfter = await Promise.all(IPS.map(async (a) => (await status(a))!.gossip.suspicions!));
    expect(suspicionsAfter).toEqual(suspicionsBefore);
    // Fingerprints are served only with a client token, and one signed by the removed key no longer opens them.
    const newToken = await clientToken(newFile);
    for (const a of IPS) expect((await status(a, 2000, newToken))!.security!.keys).toEqual([newId]);
    expect((await status(IPS[0]!))!.security).toMatchObject({ encrypted: true, keysHidden: expect.stringMatching(/tri token create/) });
    expect((await status(IPS[0]!))!.security!.keys).toBeUndefined();
    expect(await status(IPS[0]!, 2000, await clientToken(oldFile))).toBeUndefined(); // 401: its key was removed
  }, 60_000);

  it('a node that has only the old key is kept out after remove', async () => {
    // n6 comes back with its saved keyring (old key only) and tries to rejoin.
    procs.n6 = h.start(LATE.name, LATE.ip, { keyFile: oldFile, data: procs.n6!.data, join: [`${IPS[0]}:9999`, `${IPS[1]}:9999`] });
    await waitFor('n6 to serve /status', () => status(LATE.ip), 15_000);
    const oldToken = await clientToken(oldFile);
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      for (const a of IPS) {
        const m = (await status(a))!.members.find((x) => x.name === LATE.name);
        expect(m?.swimState).not.toBe('alive');
      }
      const own = (await status(LATE.ip, 2000, oldToken))!;
      expect(own.security!.keys).toEqual([oldId]);
      expect(own.members.filter((m) => m.swimState === 'alive').map((m) => m.name)).toEqual([LATE.name]);
      await sleep(300);
    }
    const n1 = (await status(IPS[0]!))!.security!;
    expect(n1.tlsHandshakeFailures.auth).toBeGreaterThan(0);
  }, 30_000);

  it('the rotated keyring persists: a member restarted with the old key file still uses the new key', async () => {
    await h.stop(procs.n3!);
    procs.n3 = h.start('n3', IPS[2]!, { keyFile: oldFile, data: procs.n3!.data, join: [`${IPS[0]}:9999`] });
    // Membership is what the key decides; the restarted node's own catch-up (SYNCING) is not.
    await Promise.all(IPS.map((a) => waitForView(a, NAMES, 30_000, false)));
    expect((await status(IPS[2]!, 2000, await clientToken(newFile)))!.security!.keys).toEqual([newId]);
  }, 45_000);
});
