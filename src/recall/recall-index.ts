// The recall index: every episode of every agent a node holds, in SQLite with an FTS5 table over
// task, outcome and notes (bm25 ranking) and side tables for the tag and field filters. It is a
// cache derived from the replicated documents, never the truth: it is written without fsync, and
// a per-agent digest row, present only while that agent's rows are known to match its document,
// tells a reopening node which agents to rebuild (a crash leaves the agents it was changing
// without a row).
//
// Rows are per document (docs/segmented-memory.md rule 4): the `agent` column holds the document's
// key, the agent id for its root and '<id>/<k>' for a segment, so digests and rebuilds work one
// document at a time; a query for an agent reads its root's and segments' rows together, and an
// episode held by both (rule 3) reads once, merged.
import Database from 'better-sqlite3';
import type { Episode } from '../../crdt/index.js';
import { StorageError } from '../errors.js';
import { preparePrivateFile } from '../storage/private-files.js';
import { asEmbedding, canonicalJson, EMBEDDING_FIELD, ftsExpression, queryWords, type RecallHit, type RecallQuery } from './recall-query.js';
import { fuse, nearest, vectorBlob } from './vector-rank.js';
import { mergeCopies } from '../../crdt/segmented-memory.js';
import { segmentDocNames, segmentOf, SEGMENT_BITS } from '../../crdt/segments.js';
import { maintainIndex, type IndexMaintenance } from './recall-maintenance.js';

/** Bumped when the tables change: an index of another version is dropped and rebuilt. */
const INDEX_VERSION = 4; // 4: rows keyed by document (root or segment)

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ep (
  rowid INTEGER PRIMARY KEY, agent TEXT NOT NULL, id TEXT NOT NULL,
  task TEXT NOT NULL, outcome TEXT NOT NULL, notes TEXT NOT NULL, created_at REAL NOT NULL, json TEXT NOT NULL,
  UNIQUE (agent, id));
CREATE INDEX IF NOT EXISTS ep_agent_time ON ep (agent, created_at);
CREATE INDEX IF NOT EXISTS ep_time ON ep (created_at);
CREATE VIRTUAL TABLE IF NOT EXISTS ep_fts USING fts5 (agent, task, outcome, notes, content = 'ep', content_rowid = 'rowid', tokenize = 'porter unicode61 remove_diacritics 2');
CREATE TRIGGER IF NOT EXISTS ep_ai AFTER INSERT ON ep BEGIN
  INSERT INTO ep_fts (rowid, agent, task, outcome, notes) VALUES (new.rowid, new.agent, new.task, new.outcome, new.notes); END;
CREATE TRIGGER IF NOT EXISTS ep_ad AFTER DELETE ON ep BEGIN
  INSERT INTO ep_fts (ep_fts, rowid, agent, task, outcome, notes) VALUES ('delete', old.rowid, old.agent, old.task, old.outcome, old.notes);
  DELETE FROM ep_tag WHERE ep = old.rowid; DELETE FROM ep_field WHERE ep = old.rowid; DELETE FROM ep_vec WHERE ep = old.rowid; END;
CREATE TRIGGER IF NOT EXISTS ep_au AFTER UPDATE OF task, outcome, notes ON ep BEGIN
  INSERT INTO ep_fts (ep_fts, rowid, agent, task, outcome, notes) VALUES ('delete', old.rowid, old.agent, old.task, old.outcome, old.notes);
  INSERT INTO ep_fts (rowid, agent, task, outcome, notes) VALUES (new.rowid, new.agent, new.task, new.outcome, new.notes); END;
CREATE TABLE IF NOT EXISTS ep_tag (tag TEXT NOT NULL, ep INTEGER NOT NULL, PRIMARY KEY (tag, ep)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS ep_tag_ep ON ep_tag (ep);
CREATE TABLE IF NOT EXISTS ep_field (name TEXT NOT NULL, value TEXT NOT NULL, ep INTEGER NOT NULL, PRIMARY KEY (name, value, ep)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS ep_field_ep ON ep_field (ep);
CREATE TABLE IF NOT EXISTS ep_vec (ep INTEGER PRIMARY KEY, vec BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS agent_state (agent TEXT PRIMARY KEY, digest TEXT NOT NULL);
`;

/**
 * Column weights for bm25: a word in the task counts most, then the outcome, then the notes. The
 * agent column only narrows a one-agent search inside FTS (its phrase is ANDed to the words), so
 * bm25 scores the agent's matches instead of every agent's.
 */
const BM25 = 'bm25(ep_fts, 0.0, 4.0, 2.0, 1.0)';

type Stmt = Database.Statement;

export class RecallIndex {
  private readonly db: Database.Database;
  private readonly st: Record<'get' | 'upsert' | 'del' | 'delAgent' | 'tagDel' | 'tagIns' | 'fieldDel' | 'fieldIns' | 'vecDel' | 'vecIns' | 'rows' | 'stateGet' | 'stateSet' | 'stateDel' | 'agents' | 'count' | 'copy' | 'split', Stmt>;
  private readonly queries = new Map<string, Stmt>();

  /** Opens (or creates) the index at `file`, or an in-memory one for ':memory:'. Throws StorageError. */
  constructor(readonly file: string) {
    try {
      // Episodes' content, like node.db: owner-only whatever the umask (its -wal and -shm follow).
      if (file !== ':memory:') preparePrivateFile(file);
      this.db = new Database(file, { timeout: 0 });
      // Before anything is written: a new file can then hand free pages back (recall-maintenance.ts).
      this.db.pragma('auto_vacuum = INCREMENTAL');
      this.db.pragma('journal_mode = WAL');
      // A cache: a crash loses at most what agent_state no longer vouches for, and that is rebuilt.
      this.db.pragma('synchronous = OFF');
      const hasMeta = this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").get() !== undefined;
      const version = hasMeta ? (this.db.prepare("SELECT value FROM meta WHERE key = 'version'").pluck().get() as string | undefined) : undefined;
      if (version !== undefined && version !== String(INDEX_VERSION)) this.dropAll();
      this.db.exec(SCHEMA);
      this.db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('version', ?)").run(String(INDEX_VERSION));
    } catch (err) {
      throw new StorageError(`cannot open the recall index ${file}: ${(err as Error).message}; delete the file and the node rebuilds it`, { cause: err });
    }
    this.st = {
      get: this.db.prepare('SELECT rowid, json FROM ep WHERE agent = ? AND id = ?'),
      upsert: this.db.prepare(
        'INSERT INTO ep (agent, id, task, outcome, notes, created_at, json) VALUES (?, ?, ?, ?, ?, ?, ?) ' +
          'ON CONFLICT (agent, id) DO UPDATE SET task = excluded.task, outcome = excluded.outcome, notes = excluded.notes, created_at = excluded.created_at, json = excluded.json RETURNING rowid',
      ),
      del: this.db.prepare('DELETE FROM ep WHERE agent = ? AND id = ?'),
      delAgent: this.db.prepare('DELETE FROM ep WHERE agent = ?'),
      tagDel: this.db.prepare('DELETE FROM ep_tag WHERE ep = ?'),
      tagIns: this.db.prepare('INSERT OR IGNORE INTO ep_tag (tag, ep) VALUES (?, ?)'),
      fieldDel: this.db.prepare('DELETE FROM ep_field WHERE ep = ?'),
      fieldIns: this.db.prepare('INSERT OR IGNORE INTO ep_field (name, value, ep) VALUES (?, ?, ?)'),
      vecDel: this.db.prepare('DELETE FROM ep_vec WHERE ep = ?'),
      vecIns: this.db.prepare('INSERT OR REPLACE INTO ep_vec (ep, vec) VALUES (?, ?)'),
      rows: this.db.prepare('SELECT rowid, agent, json FROM ep WHERE rowid IN (SELECT value FROM json_each(?))'),
      copy: this.db.prepare('SELECT json FROM ep WHERE agent = ? AND id = ?').pluck(),
      split: this.db.prepare('SELECT 1 FROM ep WHERE agent >= ? AND agent < ? LIMIT 1').pluck(),
      stateGet: this.db.prepare('SELECT digest FROM agent_state WHERE agent = ?').pluck(),
      stateSet: this.db.prepare('INSERT OR REPLACE INTO agent_state (agent, digest) VALUES (?, ?)'),
      stateDel: this.db.prepare('DELETE FROM agent_state WHERE agent = ?'),
      agents: this.db.prepare('SELECT DISTINCT agent FROM ep').pluck(),
      count: this.db.prepare('SELECT count(*) FROM ep').pluck(),
    };
  }

  private dropAll(): void {
    for (const t of ['ep_fts', 'ep_tag', 'ep_field', 'ep_vec', 'agent_state', 'ep', 'meta']) this.db.exec(`DROP TABLE IF EXISTS ${t}`);
  }

  /** Runs `fn` in one transaction (a batch of changes costs one commit). */
  batch<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  /** Stores an episode as it reads now (nothing when unchanged); `fresh`: known not to be stored yet (a rebuild). */
  put(agent: string, e: Episode, fresh = false): void {
    const json = JSON.stringify(e);
    const old = fresh ? undefined : (this.st.get.get(agent, e.id) as { rowid: number; json: string } | undefined);
    if (old?.json === json) return;
    const { rowid } = this.st.upsert.get(agent, e.id, e.task, e.outcome, e.notes, e.createdAt, json) as { rowid: number };
    if (old) {
      this.st.tagDel.run(rowid);
      this.st.fieldDel.run(rowid);
      this.st.vecDel.run(rowid);
    }
    const embedding = asEmbedding(e.fields[EMBEDDING_FIELD]);
    const blob = embedding && vectorBlob(embedding);
    if (blob) this.st.vecIns.run(rowid, blob);
    for (const t of e.tags) this.st.tagIns.run(t, rowid);
    // A field in conflict matches any of its values.
    for (const [name, v] of Object.entries(e.fields)) {
      if (name === EMBEDDING_FIELD) continue; // searched by vector, never by equality: not worth its bytes here
      const values = v !== null && typeof v === 'object' && !Array.isArray(v) && Array.isArray((v as { conflict?: unknown }).conflict) && Object.keys(v).length === 1 ? (v as { conflict: unknown[] }).conflict : [v];
      for (const one of values) this.st.fieldIns.run(name, canonicalJson(one as never), rowid);
    }
  }

  remove(agent: string, id: string): void {
    this.st.del.run(agent, id);
  }

  removeAgent(agent: string): void {
    this.st.delAgent.run(agent);
    this.st.stateDel.run(agent);
  }

  /** The digest of the document the agent's rows were last known to match, if any. */
  agentDigest(agent: string): string | undefined {
    return this.st.stateGet.get(agent) as string | undefined;
  }
  setAgentDigest(agent: string, digest: string): void {
    this.st.stateSet.run(agent, digest);
  }
  /** The agent's rows are about to change: until setAgentDigest, a reopened index rebuilds them. */
  clearAgentDigest(agent: string): void {
    this.st.stateDel.run(agent);
  }
  indexedAgents(): string[] {
    return this.st.agents.all() as string[];
  }
  episodes(): number {
    return this.st.count.get() as number;
  }
  /** Bytes of the index file (pages in use), for the benchmark. */
  bytes(): number {
    return (this.db.pragma('page_count', { simple: true }) as number) * (this.db.pragma('page_size', { simple: true }) as number);
  }

  /** Merges the FTS5 segments and returns free pages (recall-maintenance.ts; the node's periodic maintenance). */
  maintain(budgetMs?: number): IndexMaintenance {
    return maintainIndex(this.db, 'ep_fts', { budgetMs });
  }

  /**
   * Ranked hits: bm25 when there is text, nearest by cosine when there is a vector, both fused by
   * reciprocal rank when there are both, newest first otherwise. `agent` undefined searches every agent.
   */
  search(agent: string | undefined, q: RecallQuery & { limit: number }): RecallHit[] {
    const words = q.text === undefined ? [] : queryWords(q.text);
    if (q.text !== undefined && q.text.trim() !== '' && words.length === 0) return []; // only punctuation: nothing can match
    const { where, args } = filters(agent === undefined ? undefined : this.scope(agent), q);
    if (q.vector === undefined) {
      if (words.length > 0) return this.textRows(agent, words, where, args, q.limit).map((r) => this.hit(r, r.score));
      const cond = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
      return this.all(`SELECT ep.rowid AS rowid, ep.agent AS agent, ep.json AS json, 0 AS score FROM ep ${cond} ORDER BY ep.created_at DESC, ep.id LIMIT ?`, [...args, q.limit]).map((r) => this.hit(r, r.score));
    }
    const query = vectorBlob(q.vector);
    if (!query) return [];
    // Enough of each ranking that fusion can promote what the other ranks low.
    const depth = Math.max(q.limit * 5, 50);
    const cond = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
    const candidates = this.prepared(`SELECT ep.rowid AS rowid, ep_vec.vec AS vec FROM ep JOIN ep_vec ON ep_vec.ep = ep.rowid ${cond}`).iterate(...args) as Iterable<{ rowid: number; vec: Buffer }>;
    const near = nearest(query, candidates, depth);
    const ranked = words.length > 0 ? fuse([this.textRows(agent, words, where, args, depth).map((r) => r.rowid), near.map((n) => n.rowid)]) : near.map((n) => ({ rowid: n.rowid, score: n.sim }));
    const top = ranked.slice(0, q.limit);
    const rows = new Map((this.st.rows.all(JSON.stringify(top.map((t) => t.rowid))) as Array<{ rowid: number; agent: string; json: string }>).map((r) => [r.rowid, r]));
    return top.flatMap((t) => {
      const r = rows.get(t.rowid);
      return r ? [this.hit(r, t.score)] : [];
    });
  }

  /**
   * One agent's episodes newest first (created_at, then id, descending) after the cursor `after`,
   * within [since, until), with the outcome and tag given: at most `limit` rows (index-page.ts).
   */
  pageRows(agent: string, f: { since?: number; until?: number; outcome?: string; tag?: string; after?: { at: number; id: string } }, limit: number): Array<{ id: string; at: number; json: string }> {
    const split = this.scope(agent).split;
    const where = ['agent = ?'];
    const args: unknown[] = [];
    const and = (cond: string, ...values: unknown[]): void => {
      where.push(cond);
      args.push(...values);
    };
    if (f.since !== undefined) and('created_at >= ?', f.since);
    if (f.until !== undefined) and('created_at < ?', f.until);
    if (f.outcome !== undefined) and('outcome = ?', f.outcome);
    if (f.tag !== undefined) and('EXISTS (SELECT 1 FROM ep_tag WHERE tag = ? AND ep = ep.rowid)', f.tag);
    if (f.after !== undefined) and('(created_at < ? OR (created_at = ? AND id < ?))', f.after.at, f.after.at, f.after.id);
    if (split) and(NOT_SHADOWED);
    const query = this.prepared(`SELECT agent, id, created_at AS at, json FROM ep WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id DESC LIMIT ?`);
    // Split: the newest `limit` of each document (one index range each), merged; never a sort of the whole agent.
    const keys = split ? [agent, ...segmentDocNames(agent, SEGMENT_BITS)] : [agent];
    const rows = keys.flatMap((k) => query.all(k, ...args, limit) as Array<{ agent: string; id: string; at: number; json: string }>);
    if (split) rows.sort((a, b) => b.at - a.at || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0)).splice(limit);
    return rows.map((r) => ({ id: r.id, at: r.at, json: split ? this.merged(r.agent, r.id, r.json) : r.json })); // unsplit: the rows as stored
  }

  /** The rows of one agent: its root's (key = the agent id) and, once it has any, its segments' (key '<id>/<k>'). */
  private scope(agent: string): { sql: string; args: unknown[]; split: boolean } {
    const split = this.st.split.get(`${agent}/`, `${agent}0`) !== undefined;
    if (!split) return { sql: 'ep.agent = ?', args: [agent], split }; // an unsplit agent: exactly the one-document query
    return { sql: '(ep.agent = ? OR (ep.agent >= ? AND ep.agent < ?))', args: [agent, `${agent}/`, `${agent}0`], split };
  }

  /** A root row's episode merged with a segment's copy of the same id, if any (rule 3); any other row as it is. */
  private merged(doc: string, id: string, json: string): string {
    if (doc.includes('/') || !/^[0-9a-f]{16}$/.test(id)) return json;
    const copy = this.st.copy.get(`${doc}/${segmentOf(id, SEGMENT_BITS).toString(16).padStart(2, '0')}`, id) as string | undefined;
    return copy === undefined ? json : JSON.stringify(mergeCopies(JSON.parse(json) as Episode, JSON.parse(copy) as Episode));
  }

  /** Hits named by agent id (a segment's row by its agent), with rule-3 copies merged into the root's. */
  private hit(r: { agent: string; json: string }, score: number): RecallHit {
    const slash = r.agent.indexOf('/');
    const episode = JSON.parse(r.json) as Episode;
    if (slash >= 0) return { agent: r.agent.slice(0, slash), score, episode };
    return { agent: r.agent, score, episode: JSON.parse(this.merged(r.agent, episode.id, r.json)) as Episode };
  }

  private textRows(agent: string | undefined, words: string[], where: string[], args: unknown[], limit: number): Row[] {
    const text = `{task outcome notes} : (${ftsExpression(words)})`;
    const match = agent === undefined ? text : `agent : "${agent.replaceAll('"', '""')}" AND ${text}`;
    const cond = ['ep_fts MATCH ?', ...where].join(' AND ');
    return this.all(`SELECT ep.rowid AS rowid, ep.agent AS agent, ep.json AS json, -${BM25} AS score FROM ep_fts JOIN ep ON ep.rowid = ep_fts.rowid WHERE ${cond} ORDER BY ${BM25} LIMIT ?`, [match, ...args, limit]);
  }

  private all(sql: string, args: unknown[]): Row[] {
    return this.prepared(sql).all(...args) as Row[];
  }

  /** Statements by SQL text; the filters make a bounded number of shapes. */
  private prepared(sql: string): Stmt {
    let stmt = this.queries.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      if (this.queries.size < 256) this.queries.set(sql, stmt);
    }
    return stmt;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

interface Row {
  rowid: number;
  agent: string;
  json: string;
  score: number;
}

/** A segment's row whose episode its root holds too (rule 3): the root's row stands for both. */
const NOT_SHADOWED = "NOT (instr(ep.agent, '/') > 0 AND EXISTS (SELECT 1 FROM ep r WHERE r.agent = substr(ep.agent, 1, instr(ep.agent, '/') - 1) AND r.id = ep.id))";

/** The SQL conditions of every filter but text and vector. */
function filters(scope: { sql: string; args: unknown[]; split: boolean } | undefined, q: RecallQuery): { where: string[]; args: unknown[] } {
  const where: string[] = [];
  const args: unknown[] = [];
  if (scope !== undefined) {
    where.push(scope.sql);
    args.push(...scope.args);
  }
  if (scope === undefined || scope.split) where.push(NOT_SHADOWED);
  if (q.outcome !== undefined) {
    where.push('ep.outcome = ?');
    args.push(q.outcome);
  }
  if (q.since !== undefined) {
    where.push('ep.created_at >= ?');
    args.push(q.since);
  }
  if (q.until !== undefined) {
    where.push('ep.created_at <= ?');
    args.push(q.until);
  }
  for (const t of q.tags ?? []) {
    where.push('EXISTS (SELECT 1 FROM ep_tag WHERE tag = ? AND ep = ep.rowid)');
    args.push(t);
  }
  for (const [name, v] of Object.entries(q.fields ?? {})) {
    where.push('EXISTS (SELECT 1 FROM ep_field WHERE name = ? AND value = ? AND ep = ep.rowid)');
    args.push(name, canonicalJson(v));
  }
  return { where, args };
}
