// The task workload of a fuzz run: which agent types every simulated node defines and which
// tasks `task` steps submit. The default uses built-in agents that finish synchronously (the
// simulator's virtual clock does not move while an agent runs). `tri fuzz --agents MODULE`
// takes a user module in the shape `tri node start --agents` accepts, plus an optional
// `workload` export:
//   export const workload = [{ type: 'reverse', input: { text: 'abc' } }, ...]   picked in turn
//   export function workload(pick) { return { type: 'reverse', input: { n: pick } }; }
// Agents must be deterministic and must not wait on real timers, or a seed no longer replays.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Json } from '../../crdt/index.js';
import { createAgentRegistry, loadAgentModule, type AgentHandler } from '../agents/index.js';
import { ConfigError } from '../errors.js';
import type { NewTask } from '../tasks/index.js';

export interface Workload {
  /** Agent types to define on every node (besides the built-ins), by type name. */
  agents: Array<[string, AgentHandler]>;
  /** The task a `task` step with this `pick` submits. */
  task(pick: number): NewTask;
  /** Where the workload came from, for the report and the replay command. */
  source: string | null;
}

const WORDS = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta'];

/** Built-in agents only: echo, wordcount and a short sha256 (no real timers, no yields). */
export const DEFAULT_WORKLOAD: Workload = {
  agents: [],
  source: null,
  task(pick: number): NewTask {
    switch (pick % 3) {
      case 0:
        return { type: 'echo', input: { n: pick } };
      case 1:
        return { type: 'wordcount', input: { text: `${WORDS[pick % WORDS.length]} ${WORDS[(pick >> 3) % WORDS.length]} fuzz ${pick}` } };
      default:
        return { type: 'sha256', input: { data: `fuzz-${pick}`, rounds: 1 + (pick % 3) } };
    }
  },
};

/** Loads `--agents MODULE`: its agent types, and its `workload` export if it has one. */
export async function loadWorkload(modulePath: string, baseDir = process.cwd()): Promise<Workload> {
  const registry = createAgentRegistry({ builtins: false });
  const types = await loadAgentModule(registry, modulePath, { baseDir });
  const agents: Array<[string, AgentHandler]> = types.map((t) => [t, registry.get(t)]);
  const file = resolve(baseDir, modulePath);
  const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  const spec = mod.workload;
  let task: (pick: number) => NewTask;
  if (spec === undefined) {
    // No workload given: every type of the module in turn, with a small JSON input.
    task = (pick) => ({ type: types[pick % types.length]!, input: { n: pick, text: `${WORDS[pick % WORDS.length]} fuzz ${pick}` } });
  } else if (Array.isArray(spec)) {
    if (spec.length === 0) throw new ConfigError(`agent module ${file}: "workload" is an empty array; list tasks as [{ type, input }]`);
    spec.forEach((t, i) => checkTask(t, `${file}: workload[${i}]`));
    task = (pick) => structuredClone(spec[pick % spec.length] as NewTask);
  } else if (typeof spec === 'function') {
    task = (pick) => {
      const t = (spec as (pick: number) => unknown)(pick);
      checkTask(t, `${file}: workload(${pick})`);
      return t;
    };
  } else {
    throw new ConfigError(`agent module ${file}: "workload" must be an array of { type, input } or a function (pick) => { type, input }, not a ${typeof spec}`);
  }
  return { agents, task, source: modulePath };
}

function checkTask(t: unknown, where: string): asserts t is NewTask {
  const ok = typeof t === 'object' && t !== null && typeof (t as { type?: unknown }).type === 'string' && 'input' in t;
  if (!ok) throw new ConfigError(`${where} is not a task; give { type: "agent-type", input: <JSON> }`);
  void (t as { input: Json }).input;
}
