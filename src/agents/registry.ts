// The agent types a node can run: built-in ones and user-defined ones (library API or
// --agents module). One registry per node; lookups of unknown types fail with a named error.
import { ConfigError, UnknownAgentTypeError } from '../errors.js';
import type { AgentHandler } from './types.js';

/** Type names travel in the task table and on the command line: keep them plain. */
const TYPE_NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

export function assertAgentType(type: unknown): asserts type is string {
  if (typeof type !== 'string' || !TYPE_NAME.test(type)) {
    throw new ConfigError(
      `agent type ${JSON.stringify(type)} is not a valid name; use 1-64 letters, digits, '.', '_', ':' or '-', starting with a letter or digit`,
    );
  }
}

export interface DefineOptions {
  /** Allow replacing an existing definition (e.g. a user module overriding a built-in). */
  replace?: boolean;
}

export class AgentRegistry {
  private readonly handlers = new Map<string, AgentHandler>();

  defineAgent(type: string, handler: AgentHandler, options: DefineOptions = {}): void {
    assertAgentType(type);
    if (typeof handler !== 'function') {
      throw new ConfigError(`the handler for agent type "${type}" is not a function; pass (input, ctx) => output`);
    }
    if (this.handlers.has(type) && !options.replace) {
      throw new ConfigError(`agent type "${type}" is already defined; pick another name or pass { replace: true }`);
    }
    this.handlers.set(type, handler);
  }

  has(type: string): boolean {
    return this.handlers.has(type);
  }

  /** The handler for `type`; UnknownAgentTypeError (listing the known types) if there is none. */
  get(type: string): AgentHandler {
    const h = this.handlers.get(type);
    if (!h) {
      throw new UnknownAgentTypeError(
        `unknown agent type "${type}"; this node knows ${this.types().join(', ') || 'no types'} (load more with --agents MODULE or defineAgent)`,
      );
    }
    return h;
  }

  /** Registered type names, sorted. */
  types(): string[] {
    return [...this.handlers.keys()].sort();
  }
}
