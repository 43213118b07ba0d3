import type { Command } from 'commander';

type Register = (program: Command) => void;

/**
 * Every top-level command (and alias) and how to load its module. A command's module is imported
 * only when that command runs, or when all are needed (help, an unknown command): `tri node start`
 * must not pay for loading the fuzzer, the demo or the client commands before it joins.
 * The order is the order of `tri --help`.
 */
const COMMANDS: ReadonlyArray<{ names: readonly string[]; load: () => Promise<Register> }> = [
  { names: ['node'], load: () => import('./node.js').then((m) => m.registerNode) },
  { names: ['nodes'], load: () => import('./nodes.js').then((m) => m.registerNodes) },
  { names: ['status'], load: () => import('./status.js').then((m) => m.registerStatus) },
  { names: ['operator'], load: () => import('./operator.js').then((m) => m.registerOperator) },
  { names: ['snapshot'], load: () => import('./snapshot.js').then((m) => m.registerSnapshot) },
  { names: ['keys'], load: () => import('./keys.js').then((m) => m.registerKeys) },
  { names: ['token'], load: () => import('./token.js').then((m) => m.registerToken) },
  { names: ['memory'], load: () => import('./memory.js').then((m) => m.registerMemory) },
  { names: ['task'], load: () => import('./task.js').then((m) => m.registerTask) },
  { names: ['mcp'], load: () => import('./mcp.js').then((m) => m.registerMcp) },
  { names: ['cluster', 'cluster-demo'], load: () => import('./cluster.js').then((m) => m.registerCluster) },
  { names: ['cluster-bench', 'nodes-bench'], load: () => import('./cluster-bench.js').then((m) => m.registerClusterBench) },
  { names: ['fuzz'], load: () => import('./fuzz.js').then((m) => m.registerFuzz) },
];

/** Every top-level command name and alias (a test checks this matches what the modules register). */
export const COMMAND_NAMES: readonly string[] = COMMANDS.flatMap((c) => c.names);

/**
 * Registers the command `argv` names (its first word), or every command when that word names none
 * (help, a typo: commander then lists them all or suggests the nearest).
 */
export async function registerCommands(program: Command, argv: readonly string[] = []): Promise<void> {
  const named = COMMANDS.find((c) => c.names.includes(argv[0] ?? ''));
  const chosen = named ? [named] : COMMANDS;
  const registers = await Promise.all(chosen.map((c) => c.load()));
  for (const register of registers) register(program);
}
