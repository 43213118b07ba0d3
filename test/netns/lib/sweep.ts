// Removes namespaces and bridges left behind by harness runs whose process has died (a crashed
// test cannot run its own cleanup). Live runs' objects are left alone.
import { runCommand } from './run-command.js';
import { isPidDead, ownerPid } from './names.js';

/** Names of all network namespaces on the machine. */
export async function listNamespaces(): Promise<string[]> {
  const { stdout } = await runCommand('ip', ['netns', 'list'], { timeoutMs: 5_000 });
  return stdout
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[0] ?? '')
    .filter((name) => name.length > 0);
}

/** Kills whatever still runs inside a namespace, then deletes it. */
export async function deleteNamespace(name: string): Promise<void> {
  // A process left inside keeps the namespace (and its addresses) alive after "ip netns del".
  const pids = await runCommand('ip', ['netns', 'pids', name], { allowFailure: true, timeoutMs: 5_000 });
  for (const pid of pids.stdout.split(/\s+/).filter(Boolean).map(Number)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  await runCommand('ip', ['netns', 'del', name], { allowFailure: true, timeoutMs: 5_000 });
}

/** Deletes `tri-<pid>-*` namespaces and root-namespace bridges whose pid no longer exists. */
export async function sweepStale(): Promise<string[]> {
  const removed: string[] = [];
  for (const ns of await listNamespaces()) {
    const pid = ownerPid(ns);
    if (pid !== undefined && isPidDead(pid)) {
      await deleteNamespace(ns);
      removed.push(ns);
    }
  }
  // The harness keeps its bridges inside a namespace, but an older or interrupted run may not.
  const links = await runCommand('ip', ['-o', 'link', 'show', 'type', 'bridge'], { allowFailure: true, timeoutMs: 5_000 });
  for (const line of links.stdout.split('\n')) {
    const name = /^\d+:\s+([^:@\s]+)/.exec(line)?.[1];
    const pid = name ? ownerPid(name) : undefined;
    if (name && pid !== undefined && isPidDead(pid)) {
      await runCommand('ip', ['link', 'del', name], { allowFailure: true, timeoutMs: 5_000 });
      removed.push(name);
    }
  }
  return removed;
}
