// The src/agents surface the node uses: registry, built-ins, user modules, slots and execution.
import { registerBuiltins } from './builtins.js';
import { AgentRegistry } from './registry.js';

export type { AgentContext, AgentHandler, AgentOutcome } from './types.js';
export { AgentRegistry, assertAgentType } from './registry.js';
export type { DefineOptions } from './registry.js';
export { BUILTIN_AGENTS, MAX_SHA256_ROUNDS, MAX_SLEEP_MS, registerBuiltins } from './builtins.js';
export { countWords } from './wordcount.js';
export { loadAgentModule } from './load-module.js';
export type { LoadOptions } from './load-module.js';
export { runAgent } from './run-agent.js';
export { REAL_AGENT_TIME, sleepOn } from './agent-clock.js';
export type { AgentTime } from './agent-clock.js';
export { SlotPool } from './slot-pool.js';
export type { SlotLease, SlotOccupant } from './slot-pool.js';
export { AgentExecutor, DEFAULT_SLOTS } from './executor.js';
export type { ExecuteRequest, ExecutorOptions } from './executor.js';

/** A registry with the built-in agents (echo, wordcount, sha256, sleep) already defined. */
export function createAgentRegistry(options: { builtins?: boolean } = {}): AgentRegistry {
  const registry = new AgentRegistry();
  if (options.builtins ?? true) registerBuiltins(registry);
  return registry;
}
