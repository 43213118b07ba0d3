// Runs the built `tri` CLI (dist/) as a child process and collects what it printed and how it
// exited. CI builds before vitest, so integration tests spawn dist/ directly; a missing build is
// reported with the command that makes it.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const TRI = resolve(REPO_ROOT, 'dist/src/cli/tri.js');

export function assertBuilt(): void {
  if (!existsSync(TRI)) throw new Error(`${TRI} does not exist: run "npm run build" (tsc -p tsconfig.json) before the integration tests`);
}

export interface CliResult {
  args: string[];
  /** Exit code, or null when the process ended by a signal (for example our timeout). */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
  timedOut: boolean;
}

/** One `tri ...` run; never rejects: a spawn failure or timeout shows in the result. */
export function runTri(args: string[], opts: { timeoutMs?: number; cwd?: string; script?: string } = {}): Promise<CliResult> {
  assertBuilt();
  const started = Date.now();
  const timeoutMs = opts.timeoutMs ?? 30_000;
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [opts.script ?? TRI, ...args], { cwd: opts.cwd ?? REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    trackChild(child.pid);
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (err) => {
      stderr += `\n[harness] spawn failed: ${err.message}`;
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      untrackChild(child.pid);
      resolvePromise({ args, code, signal, stdout, stderr, ms: Date.now() - started, timedOut });
    });
  });
}

/** A short human form of a result for assertion messages. */
export function describeResult(r: CliResult): string {
  return `tri ${r.args.join(' ')} -> code ${r.code}${r.signal ? ` signal ${r.signal}` : ''}${r.timedOut ? ' (timed out)' : ''} in ${r.ms} ms\nstdout: ${r.stdout.trim()}\nstderr: ${r.stderr.trim()}`;
}

// Safety net: whatever a test forgets (or a crash skips), no child outlives the test process.
const live = new Set<number>();
let hooked = false;

export function trackChild(pid: number | undefined): void {
  if (pid === undefined) return;
  live.add(pid);
  if (!hooked) {
    hooked = true;
    process.on('exit', () => {
      for (const p of live) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    });
  }
}

export function untrackChild(pid: number | undefined): void {
  if (pid !== undefined) live.delete(pid);
}
