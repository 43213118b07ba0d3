// What a replica does with one small episode write pushed to it: validate the update's bytes
// (the byte-level scanner, against the memory schema), apply it to the agent's Y.Doc, append it
// to SQLite. Each alone, then together through the node's own DocSet (DurableDocSet over
// SqliteStore with group commit): that last case is the replica floor, the CPU one replica must
// spend per write whatever the network, RPC and event loop add.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as Y from 'yjs';
import { MEMORY_SCHEMA } from '../../../crdt/index.js';
import { scanUpdateProblem } from '../../../crdt/update-scan.js';
import { DurableDocSet } from '../../../src/storage/durable-doc-set.js';
import { SqliteStore } from '../../../src/storage/sqlite-store.js';
import type { AppendEntry } from '../../../src/storage/types.js';
import { episodeUpdates } from '../gen.js';
import type { MicroSuite } from '../suite.js';

/** Writes per group commit: about what one event-loop turn of a loaded node gathers (as quorum-writes' floor). */
export const COMMIT_EVERY = 32;
/** Distinct episode writes a case walks before it starts again on fresh documents. */
const POOL = 8_192;
const SMALL_POOL = 512;
const AGENTS = 64;
/** The case whose time per op is the replica floor (run.ts reports it as one number). */
export const FLOOR_CASE = `validate + apply + append (group commit of ${COMMIT_EVERY}) = replica floor`;

export const suite: MicroSuite = {
  name: 'replica',
  title: `one small episode write on a replica (${AGENTS} agents' documents, SQLite synchronous=FULL in the OS temp directory)`,
  build({ small }) {
    const pool = small ? SMALL_POOL : POOL;
    const updates = episodeUpdates(pool, AGENTS, 'replica-episodes');
    const bytes = Math.round(updates.reduce((a, u) => a + u.update.length, 0) / updates.length);
    const root = mkdtempSync(join(tmpdir(), 'tri-micro-'));
    const stores: SqliteStore[] = [];
    let storeCount = 0;
    const openStore = (): SqliteStore => {
      const s = SqliteStore.open({ dir: join(root, `s${storeCount++}`), name: 'replica' });
      stores.push(s);
      return s;
    };
    const origin = { remotePeer: 'w1' };

    // Validation alone: each update against the document it would be applied to (empty here: an
    // episode's items hang off the root map or its own new maps, so the verdict and the work are
    // the same as on a document holding the writer's earlier episodes).
    const scanDocs = new Map(updates.map((u) => [u.docId, new Y.Doc({ guid: u.docId })]));
    let v = 0;
    const validate = (): void => {
      const u = updates[v]!;
      v = v + 1 === pool ? 0 : v + 1;
      if (scanUpdateProblem(scanDocs.get(u.docId)!, u.update, MEMORY_SCHEMA) !== undefined) throw new Error('a generated episode update was refused');
    };

    // Applying alone (Yjs only): walks the writes in order; after the last, fresh documents.
    let applyDocs = new Map<string, Y.Doc>();
    let a = 0;
    const apply = (): void => {
      if (a === pool) {
        a = 0;
        applyDocs = new Map();
      }
      const u = updates[a++]!;
      let d = applyDocs.get(u.docId);
      if (!d) applyDocs.set(u.docId, (d = new Y.Doc({ guid: u.docId })));
      Y.applyUpdate(d, u.update, origin);
    };

    // Appending alone: a batch of COMMIT_EVERY in one transaction (one fsync), or one per transaction.
    const groupStore = openStore();
    let held: AppendEntry[] = [];
    let g = 0;
    const appendGrouped = (): void => {
      held.push(updates[g]!);
      g = g + 1 === pool ? 0 : g + 1;
      if (held.length === COMMIT_EVERY) {
        groupStore.appendMany(held);
        held = [];
      }
    };
    const singleStore = openStore();
    let s1 = 0;
    const appendSingle = (): void => {
      singleStore.append(updates[s1]!.docId, updates[s1]!.update);
      s1 = s1 + 1 === pool ? 0 : s1 + 1;
    };

    // Together, as a node's sync path does it: DocSet.apply validates (scan), applies and holds
    // the raw update for the group commit. After the last write, a fresh store and documents.
    let docs: DurableDocSet | undefined;
    let docsStore: SqliteStore | undefined;
    let t = pool;
    const together = (): void => {
      if (t === pool) {
        docs?.commit();
        if (docsStore) {
          docsStore.close();
          stores.splice(stores.indexOf(docsStore), 1);
        }
        docsStore = openStore();
        docs = new DurableDocSet(docsStore, (id) => (id.startsWith('agent/') ? MEMORY_SCHEMA : undefined));
        docs.hold();
        t = 0;
      }
      const u = updates[t++]!;
      docs!.apply(u.docId, u.update, origin);
      if (t % COMMIT_EVERY === 0) docs!.commit();
    };

    return {
      cases: [
        { name: `validate ${bytes} B episode update (byte-level scan)`, fn: validate },
        { name: 'apply to Y.Doc (Y.applyUpdate, unvalidated)', fn: apply },
        { name: `append to SQLite (group commit of ${COMMIT_EVERY}, per write)`, fn: appendGrouped },
        { name: 'append to SQLite (own transaction and fsync per write)', fn: appendSingle },
        { name: FLOOR_CASE, fn: together },
      ],
      teardown: () => {
        for (const s of stores) s.close();
        rmSync(root, { recursive: true, force: true });
      },
    };
  },
};
