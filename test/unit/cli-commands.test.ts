// The CLI loads only the module of the command it runs (start-up time of `tri node start` is part
// of join time). The table of command names in src/cli/commands/index.ts must list every command
// and alias the modules register, or `tri <alias>` would miss its command.
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { COMMAND_NAMES, registerCommands } from '../../src/cli/commands/index.js';

describe('CLI command table', () => {
  it('names every command and alias the command modules register, in help order', async () => {
    const program = new Command('tri');
    await registerCommands(program);
    const registered = program.commands.flatMap((c) => [c.name(), ...c.aliases()]);
    expect([...COMMAND_NAMES]).toEqual(registered);
  });

  it('registers only the command the arguments name, and all of them otherwise', async () => {
    for (const [argv, expected] of [
      [['node', 'start', '--name', 'x'], ['node']],
      [['nodes-bench', '--quick'], ['cluster-bench']],
      [['cluster-demo'], ['cluster']],
    ] as const) {
      const program = new Command('tri');
      await registerCommands(program, argv);
      expect(program.commands.map((c) => c.name()), argv.join(' ')).toEqual(expected);
    }
    for (const argv of [[], ['--help'], ['help', 'node'], ['frobnicate']]) {
      const program = new Command('tri');
      await registerCommands(program, argv);
      expect(program.commands.length, argv.join(' ')).toBe(13);
    }
  });
});
