// Last-resort cleanup when the process exits without destroy() (an uncaught error, a test
// runner tearing a worker down): delete our namespaces synchronously, since 'exit' handlers
// cannot await. A SIGKILLed process cannot run this; sweepStale() covers that case next run.
import { execFileSync } from 'node:child_process';

const liveNamespaces = new Set<string>();
let installed = false;

export function trackNamespace(name: string): void {
  liveNamespaces.add(name);
  if (installed) return;
  installed = true;
  process.once('exit', () => {
    for (const ns of liveNamespaces) {
      try {
        const pids = execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8', timeout: 2_000 });
        for (const pid of pids.split(/\s+/).filter(Boolean)) process.kill(Number(pid), 'SIGKILL');
        execFileSync('ip', ['netns', 'del', ns], { timeout: 2_000, stdio: 'ignore' });
      } catch {
        // Best effort: the next sweepStale() removes what is left.
      }
    }
  });
}

export function untrackNamespace(name: string): void {
  liveNamespaces.delete(name);
}
