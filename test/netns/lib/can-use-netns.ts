// Decides whether this platform can run the namespace tests, and says why not, so a test file
// can skip loudly instead of silently passing on a laptop without root.
import { runCommand } from './run-command.js';
import { nextBaseName } from './names.js';

export type NetnsSupport = { ok: true } | { ok: false; reason: string };

let cached: Promise<NetnsSupport> | undefined;

export function canUseNetns(): Promise<NetnsSupport> {
  cached ??= probe();
  return cached;
}

async function probe(): Promise<NetnsSupport> {
  if (process.platform !== 'linux') return { ok: false, reason: `network namespaces need Linux, this is ${process.platform}` };
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    return { ok: false, reason: 'network namespaces need root (run the netns tests as root)' };
  }
  const name = `${nextBaseName()}-probe`;
  try {
    const add = await runCommand('ip', ['netns', 'add', name], { allowFailure: true, timeoutMs: 5_000 });
    if (add.code !== 0) return { ok: false, reason: `"ip netns add" failed: ${add.stderr.trim() || `exit ${add.code}`}` };
    // The partition and loss features rely on iptables inside a namespace; check it here too.
    const ipt = await runCommand('ip', ['netns', 'exec', name, 'iptables', '-S'], { allowFailure: true, timeoutMs: 5_000 });
    if (ipt.code !== 0) return { ok: false, reason: `iptables does not work inside a namespace: ${ipt.stderr.trim()}` };
    return { ok: true };
  } catch (err) {
    return { ok: false, reason: `cannot run "ip": ${(err as Error).message}` };
  } finally {
    await runCommand('ip', ['netns', 'del', name], { allowFailure: true, timeoutMs: 5_000 }).catch(() => undefined);
  }
}
