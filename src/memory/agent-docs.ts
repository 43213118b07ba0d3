// The agents' memory documents on a node: one AgentMemoryDoc per agent id, over the durable
// document set ('agent/<id>'), opened on first use and dropped when residency unloads it, and
// the callbacks that follow each one's changes.
import { AgentMemoryDoc } from '../../crdt/index.js';
import { ConfigError } from '../errors.js';
import type { DurableDocSet } from '../storage/durable-doc-set.js';
import { AGENT_ID } from '../vocabulary.js';

export const AGENT_PREFIX = 'agent/';

export function assertAgentId(agentId: string): void {
  if (typeof agentId !== 'string' || !AGENT_ID.test(agentId)) {
    throw new ConfigError(`agent id "${String(agentId)}" is not valid: use 1-128 letters, digits, ".", "_", ":", "@" or "-"`);
  }
}

export class AgentDocs {
  private readonly memories = new Map<string, AgentMemoryDoc>();
  private readonly subscribers = new Map<string, Set<() => void>>();

  constructor(
    private readonly docs: DurableDocSet,
    private readonly self: string,
    private readonly random: () => number,
  ) {
    docs.onEvict((id) => this.memories.delete(id.slice(AGENT_PREFIX.length)));
  }

  /** The agent's document, opened (and created) on first use; the id must be valid. */
  open(agentId: string): AgentMemoryDoc {
    let m = this.memories.get(agentId);
    if (!m) {
      m = new AgentMemoryDoc({ node: this.self, random: this.random, agentId, doc: this.docs.doc(AGENT_PREFIX + agentId) });
      this.memories.set(agentId, m);
    }
    return m;
  }

  /** The agent's document if this node holds it, without creating it. */
  peek(agentId: string): AgentMemoryDoc | undefined {
    if (!this.memories.has(agentId) && !this.docs.ids().includes(AGENT_PREFIX + agentId)) return undefined;
    return this.open(agentId);
  }

  ids(): string[] {
    return this.docs
      .ids()
      .filter((id) => id.startsWith(AGENT_PREFIX))
      .map((id) => id.slice(AGENT_PREFIX.length))
      .sort();
  }

  subscribe(agentId: string, cb: () => void): () => void {
    const docId = AGENT_PREFIX + agentId;
    let subs = this.subscribers.get(docId);
    if (!subs) this.subscribers.set(docId, (subs = new Set()));
    subs.add(cb);
    return () => subs!.delete(cb);
  }

  /** Document `docId` changed (locally or by replication): tell its subscribers. */
  changed(docId: string): void {
    const subs = this.subscribers.get(docId);
    if (subs) for (const cb of subs) cb();
  }
}
