// Loads user agent types from an ES module (`tri node start --agents ./my-agents.js`). Accepted
// shapes, checked in this order:
//   export default { summarize: async (input, ctx) => ..., ... }   an object of handlers
//   export const agents = { ... }                                  the same, as a named export
//   export async function summarize(input, ctx) { ... }           each exported function is a type
// Everything is validated before anything is registered, so a bad module changes nothing.
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '../errors.js';
import { assertAgentType, type AgentRegistry, type DefineOptions } from './registry.js';
import type { AgentHandler } from './types.js';

export interface LoadOptions extends DefineOptions {
  /** Directory a relative path is resolved against (default: the process's working directory). */
  baseDir?: string;
}

/** Imports `modulePath`, registers its handlers, and returns the type names it added. */
export async function loadAgentModule(registry: AgentRegistry, modulePath: string, options: LoadOptions = {}): Promise<string[]> {
  const file = resolve(options.baseDir ?? process.cwd(), modulePath);
  const info = await stat(file).catch(() => undefined);
  if (!info?.isFile()) {
    throw new ConfigError(`agent module ${file} does not exist (from --agents ${modulePath}); pass the path of a .js or .mjs file`);
  }
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new ConfigError(`agent module ${file} failed to load: ${why}; it must be an ES module (.mjs, or .js in a "type": "module" package)`, { cause: err });
  }
  const handlers = handlersOf(mod, file);
  for (const [type, handler] of handlers) {
    try {
      assertAgentType(type);
    } catch (err) {
      throw new ConfigError(`agent module ${file}: ${(err as Error).message}`, { cause: err });
    }
    if (typeof handler !== 'function') {
      throw new ConfigError(`agent module ${file}: "${type}" is a ${typeof handler}, not a function; export (input, ctx) => output`);
    }
    if (registry.has(type) && !options.replace) {
      throw new ConfigError(`agent module ${file}: agent type "${type}" is already defined (built-in or loaded earlier); rename it`);
    }
  }
  for (const [type, handler] of handlers) registry.defineAgent(type, handler as AgentHandler, { replace: options.replace ?? false });
  return handlers.map(([type]) => type);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

function handlersOf(mod: Record<string, unknown>, file: string): [string, unknown][] {
  if (isPlainObject(mod.default)) return nonEmpty(Object.entries(mod.default), file);
  if (typeof mod.default === 'function') {
    throw new ConfigError(
      `agent module ${file} has a default export that is a single function, which has no type name; export an object instead: export default { "my-type": handler }`,
    );
  }
  if (isPlainObject(mod.agents)) return nonEmpty(Object.entries(mod.agents), file);
  const fns = Object.entries(mod).filter(([name, v]) => name !== 'default' && typeof v === 'function');
  return nonEmpty(fns, file);
}

function nonEmpty(entries: [string, unknown][], file: string): [string, unknown][] {
  if (entries.length === 0) {
    throw new ConfigError(`agent module ${file} exports no agent handlers; export default { "my-type": async (input, ctx) => output }`);
  }
  return entries;
}
