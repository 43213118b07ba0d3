// node.doc(name): a general replicated Yjs document for library users, the same document
// WebSocket clients open at /yjs/doc/<name>. Reads are local; a change made through transact()
// is stored with fsync, replicated, and resolves once a majority of voters stored it (the same
// write path and errors as agent memory: QuorumError on a read-only node, with nothing applied;
// WriteTimeoutError when applied here but not acknowledged in time).
import type * as Y from 'yjs';
import { ConfigError } from '../errors.js';
import type { MemoryService } from '../memory/memory-service.js';

const DOC_NAME = /^[A-Za-z0-9._:@-]{1,128}$/;

/** Origin of library transactions (connected clients receive them like any other change). */
export const LIBRARY_ORIGIN = Symbol('trinity-library');

export class ReplicatedDoc {
  readonly id: string;

  constructor(
    private readonly memory: MemoryService,
    readonly name: string,
  ) {
    if (typeof name !== 'string' || !DOC_NAME.test(name)) {
      throw new ConfigError(`document name "${String(name)}" is not valid: use 1-128 letters, digits, ".", "_", ":", "@" or "-"`);
    }
    this.id = `doc/${name}`;
  }

  /** The live Y.Doc, for reading and observing. Change it only through transact(), which waits for a majority. */
  get doc(): Y.Doc {
    return this.memory.docs.doc(this.id);
  }

  /** Runs `fn` in one Yjs transaction; resolves with its result once a majority of voters stored the change. */
  transact<T>(fn: (doc: Y.Doc) => T): Promise<T> {
    return this.memory.writeQuorum(() => {
      const doc = this.doc;
      let result!: T;
      doc.transact(() => {
        result = fn(doc);
      }, LIBRARY_ORIGIN);
      return result;
    });
  }

  /** Calls `cb` after every change, local or replicated; returns a function that unsubscribes. */
  onChange(cb: (update: Uint8Array, origin: unknown) => void): () => void {
    const doc = this.doc;
    doc.on('update', cb);
    return () => doc.off('update', cb);
  }
}
