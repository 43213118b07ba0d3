// The agents' memory documents on a node: one AgentMemoryDoc per agent id, over the durable
// document set ('agent/<id>'), opened on first use and dropped when residency unloads it, and
// the callbacks that follow each one's changes.
import * as Y from 'yjs';
import { AgentMemoryDoc } from '../../crdt/index.js';
import { randomClientId } from '../../crdt/ids.js';
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
  /**
   * The Yjs client id each unloaded agent document was last written with here, and its clock
   * then. A reload reuses it when the stored document holds exactly that clock: a fresh id per
   * reload added a client to the state vector, delete set and struct store for ever (a budget
   * smaller than the data reloads on most writes: ~16 B on disk and ~0.3 KB of heap per reload).
   */
  private readonly lastClient = new Map<string, { id: number; clock: number }>();

  constructor(
    private readonly docs: DurableDocSet,
    private readonly self: string,
    private readonly random: () => number,
  ) {
    docs.onEvict((id) => {
      const agent = id.slice(AGENT_PREFIX.length);
      const m = this.memories.get(agent);
      if (m) {
        this.lastClient.set(agent, { id: m.doc.clientID, clock: Y.getState(m.doc.store, m.doc.clientID) });
        // A holder of the unloaded instance that still wrote to it must not reuse the id too.
        m.doc.clientID = randomClientId(this.random);
      }
      this.memories.delete(agent);
    });
  }

  /** The agent's document, opened (and created) on first use; the id must be valid. */
  open(agentId: string): AgentMemoryDoc {
    let m = this.memories.get(agentId);
    if (!m) {
      const doc = this.docs.doc(AGENT_PREFIX + agentId);
      const last = this.lastClient.get(agentId);
      this.lastClient.delete(agentId);
      const clientId = last && Y.getState(doc.store, last.id) === last.clock ? last.id : undefined;
      m = new AgentMemoryDoc({ node: this.self, random: this.random, agentId, doc, ...(clientId !== undefined ? { clientId } : {}) });
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
