// The client commands (../client-command-names.ts), imported statically for the one-file bundle
// (../tri-client.ts): each registers exactly as it does through the lazy table in index.ts.
import type { Command } from 'commander';
import { CLIENT_COMMANDS } from '../client-command-names.js';
import { registerMemory } from './memory.js';
import { registerNodes } from './nodes.js';
import { registerStatus } from './status.js';
import { registerTask } from './task.js';

const REGISTERS: Readonly<Record<string, (program: Command) => void>> = {
  memory: registerMemory,
  task: registerTask,
  status: registerStatus,
  nodes: registerNodes,
};

/** Registers the client command `argv` names; tri.ts sends only those to the bundle. */
export async function registerClientCommand(program: Command, argv: readonly string[]): Promise<void> {
  const name = argv[0] ?? '';
  const register = CLIENT_COMMANDS.includes(name) ? REGISTERS[name] : undefined;
  if (!register) throw new Error(`"${name}" is not a client command (${CLIENT_COMMANDS.join(', ')})`);
  register(program);
}
