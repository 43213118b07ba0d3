// Runs one external command with a hard time limit and turns a failure into an Error that
// carries the command line and its stderr, because "ip" errors are useless without them.
import { execFile } from 'node:child_process';

export interface CommandResult {
  stdout: string;
  stderr: string;
  code: number;
}

export interface RunOptions {
  /** Kill the command after this long (every harness call is bounded in time). */
  timeoutMs?: number;
  /** Return a non-zero exit code instead of throwing. */
  allowFailure?: boolean;
  /** Written to the command's stdin, then stdin is closed. */
  input?: string;
  /** Working directory of the command. */
  cwd?: string;
}

export function runCommand(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<CommandResult> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    const child = execFile(
      cmd,
      args,
      { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024, encoding: 'utf8', cwd: opts.cwd },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        if (err && !opts.allowFailure) {
          const why = err.killed ? `timed out after ${timeoutMs} ms` : `exit code ${String(err.code)}`;
          reject(new Error(`${cmd} ${args.join(' ')} failed (${why}): ${stderr.trim() || err.message}`, { cause: err }));
          return;
        }
        resolve({ stdout, stderr, code });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}
