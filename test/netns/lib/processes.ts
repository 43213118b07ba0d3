// Processes started inside host namespaces. They are tracked so destroy() can kill them: a
// process left inside a namespace would keep it (and its addresses) alive after deletion.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

export class ProcessTracker {
  private readonly children = new Set<ChildProcess>();

  spawnIn(netns: string, cmd: string, args: readonly string[], opts: SpawnOptions = {}): ChildProcess {
    // "ip netns exec" setns()es and then execs cmd, so the child's pid is cmd's pid. detached
    // puts it in its own process group, so killAll() also reaches anything cmd itself forks.
    const child = spawn('ip', ['netns', 'exec', netns, cmd, ...args], { stdio: 'pipe', ...opts, detached: true });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  /** SIGKILLs every live child's process group and waits (bounded) for them to exit. */
  async killAll(waitMs = 5_000): Promise<void> {
    const live = [...this.children].filter((c) => c.exitCode === null && c.signalCode === null);
    const exited = live.map((c) => new Promise<void>((resolve) => c.once('exit', () => resolve())));
    for (const child of live) {
      if (child.pid === undefined) continue;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }
    await Promise.race([Promise.all(exited), new Promise((r) => setTimeout(r, waitMs))]);
    this.children.clear();
  }
}
