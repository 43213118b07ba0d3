// The `tri` program (DESIGN.md "Command line"): the top-level options, error handling and exit
// codes, around a set of commands (all of them, loaded lazily, in tri-full.ts; the client
// commands in tri-client.ts). Exit codes: 0 ok, 1 error, 2 bad usage, 3 no quorum, 4 not
// acknowledged in time. Every error message says what was wrong and what to do.
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { TriError } from '../errors.js';
import { escapeControls } from './escape.js';

/** Adds the commands `argv` needs (the one its first word names, or all) to the program. */
export type RegisterCommands = (program: Command, argv: readonly string[]) => Promise<void>;

/** The program for `argv` (without node and script). */
export async function buildProgram(registerCommands: RegisterCommands, argv: readonly string[] = []): Promise<Command> {
  const program = new Command('tri')
    .description('trinity-cluster: replicated agent memory over SWIM gossip')
    .showHelpAfterError('(run "tri --help" or "tri <command> --help" for usage)')
    .version(packageVersion(), '-V, --version', 'print the version of tri')
    .exitOverride();
  await registerCommands(program, argv);
  // Subcommands inherit exit handling so a bad flag anywhere is a usage error (exit 2).
  for (const c of allCommands(program)) c.exitOverride().showHelpAfterError('(run "tri --help" or "tri <command> --help" for usage)');
  return program;
}

/** The version in package.json (dist/src/cli/tri.js and src/cli/tri.ts both sit three levels down). */
function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function allCommands(c: Command): Command[] {
  return c.commands.flatMap((sub) => [sub, ...allCommands(sub)]);
}

export async function main(registerCommands: RegisterCommands, argv: string[]): Promise<number> {
  try {
    const program = await buildProgram(registerCommands, argv);
    if (argv.length === 0) {
      // `tri` alone is not a command: the help goes to stderr and a script sees a usage error.
      process.stderr.write(program.helpInformation());
      return 2;
    }
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version are not errors
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      return 2;
    }
    if (err instanceof TriError) {
      // The message may quote a remote peer's or an agent's text: no terminal escapes get through.
      process.stderr.write(`tri: ${err.message.split('\n').map(escapeControls).join('\n')}\n`);
      // With --json a script gets the stable code and data too, on stderr: stdout stays the
      // command's own output (a failed task's record, or nothing).
      if (argv.includes('--json')) process.stderr.write(`${JSON.stringify({ error: err.toJSON() })}\n`);
      return err.exitCode;
    }
    process.stderr.write(`tri: ${(err as Error)?.stack ?? String(err)}\n`);
    return 1;
  }
}

/** Runs `tri` on this process's arguments and sets its exit code. */
export async function runAsProcess(registerCommands: RegisterCommands): Promise<void> {
  // A reader that went away (`tri task list | head -3`) is not tri's error: stop quietly instead
  // of a stack trace for the unhandled EPIPE (whatever the command did is done by then).
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
  // Long-running commands (node start, cluster) resolve only when they are done, so this is the end.
  const code = await main(registerCommands, process.argv.slice(2));
  process.exitCode = code;
  // Ended by a signal (128 + its number) after cleaning up: work still pending (a demo step waiting
  // on nodes that are gone) must not keep the process alive.
  if (code >= 128) process.exit(code);
}
