// The knowledge graph of the MCP memory tools (entities with observations, relations between
// them) as one replicated Y.Doc with semantic merges. Sans-IO like episode-doc.ts.
//
//   doc.getMap('graph'), flat keys, none ever written by two replicas (each is a "dot"):
//     e:<dot>  {name, entityType, n}         an entity creation
//     o:<dot>  {entity, entityType, text, n} an observation of an entity
//     r:<dot>  {from, to, relationType, n}   a relation
//   `n` is one more than the largest `n` the writer had seen: it orders what a reader lists
//   (creation order for one writer, as the reference server keeps it; then by dot).
//
// Merge rules, the same on every replica whatever the order updates arrive in:
// - Observations and relations are add-wins sets: a delete removes the dots it has seen, so an
//   addition made concurrently with the delete (a dot it has not seen) survives it.
// - An entity exists while any creation or observation of it exists, so two nodes creating the
//   same entity concurrently give one entity (its type: the earliest creation's, by n then dot)
//   with the observations of both.
// - Relations are a set: one listed twice (in one call, or created on two nodes concurrently) is
//   stored and listed once, and an entity named twice in one create_entities call is created
//   once (the reference server keeps both copies of either).
// - Deletion vs a concurrent addition: the addition wins. delete_entities on one node while
//   another adds observations (or relations) to that entity leaves the entity with exactly the
//   additions the deleting node had not seen; everything it had seen is gone.
import * as Y from 'yjs';
import { UsageError } from '../errors/index.js';
import { compareDots, nextDot } from './schema.js';
import type { UpdateSchema } from './update-validation.js';

export const GRAPH_ROOT = 'graph';
/** The graph's document id among a node's replicated documents (its schema is registered with the node's). */
export const GRAPH_DOC = 'graph';

/** What a remote update to the graph document may contain: JSON values under its one root map. */
export const GRAPH_SCHEMA: UpdateSchema = {
  roots: [GRAPH_ROOT],
  contents: [Y.ContentAny, Y.ContentDeleted],
  types: [],
};

export interface Entity {
  name: string;
  entityType: string;
  observations: string[];
}
export interface Relation {
  from: string;
  to: string;
  relationType: string;
}
export interface Graph {
  entities: Entity[];
  relations: Relation[];
}

interface EntityRec { dot: string; name: string; entityType: string; n: number }
interface ObsRec { dot: string; entity: string; entityType: string; text: string; n: number }
interface RelRec { dot: string; from: string; to: string; relationType: string; n: number }

interface View {
  entities: Map<string, { entity: Entity; creations: EntityRec[]; obs: ObsRec[]; first: { n: number; dot: string } }>;
  relations: RelRec[];
  maxN: number;
}

const MAX_STRING = 64 * 1024;

function str(v: unknown): v is string {
  return typeof v === 'string' && v.length <= MAX_STRING;
}
function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function byOrder(a: { n: number; dot: string }, b: { n: number; dot: string }): number {
  return a.n - b.n || compareDots(a.dot, b.dot);
}
const relKey = (r: Relation): string => JSON.stringify([r.from, r.to, r.relationType]);

export class KnowledgeGraphDoc {
  readonly doc: Y.Doc;
  private readonly map: Y.Map<unknown>;
  private view: View | undefined;

  constructor(doc: Y.Doc) {
    this.doc = doc;
    this.map = doc.getMap(GRAPH_ROOT);
    // The view is derived from the whole map: rebuilt on the next read after any change.
    doc.on('afterTransaction', () => {
      this.view = undefined;
    });
  }

  /** Creates the entities whose names do not exist yet; returns those (the reference server's result). */
  createEntities(entities: Entity[]): Entity[] {
    const v = this.read();
    const created: Entity[] = [];
    const seen = new Set<string>();
    let n = v.maxN;
    this.write(() => {
      for (const e of entities) {
        if (v.entities.has(e.name) || seen.has(e.name)) continue;
        seen.add(e.name);
        this.map.set(`e:${nextDot(this.doc)}`, { name: e.name, entityType: e.entityType, n: ++n });
        for (const text of e.observations) this.map.set(`o:${nextDot(this.doc)}`, { entity: e.name, entityType: e.entityType, text, n: ++n });
        created.push(e);
      }
    });
    return created;
  }

  /** Adds the relations not present yet; returns those. */
  createRelations(relations: Relation[]): Relation[] {
    const v = this.read();
    const have = new Set(v.relations.map(relKey));
    const created: Relation[] = [];
    let n = v.maxN;
    this.write(() => {
      for (const r of relations) {
        if (have.has(relKey(r))) continue;
        have.add(relKey(r));
        this.map.set(`r:${nextDot(this.doc)}`, { from: r.from, to: r.to, relationType: r.relationType, n: ++n });
        created.push(r);
      }
    });
    return created;
  }

  /** Adds observations to existing entities (UsageError naming the first missing entity; nothing written then). */
  addObservations(items: Array<{ entityName: string; contents: string[] }>): Array<{ entityName: string; addedObservations: string[] }> {
    const v = this.read();
    for (const o of items) if (!v.entities.has(o.entityName)) throw new UsageError(`Entity with name ${o.entityName} not found`);
    let n = v.maxN;
    const results: Array<{ entityName: string; addedObservations: string[] }> = [];
    const now = new Map<string, Set<string>>();
    this.write(() => {
      for (const o of items) {
        const e = v.entities.get(o.entityName)!;
        const has = now.get(o.entityName) ?? new Set(e.entity.observations);
        now.set(o.entityName, has);
        const added = o.contents.filter((c) => !has.has(c));
        for (const text of added) {
          has.add(text);
          this.map.set(`o:${nextDot(this.doc)}`, { entity: o.entityName, entityType: e.entity.entityType, text, n: ++n });
        }
        results.push({ entityName: o.entityName, addedObservations: added });
      }
    });
    return results;
  }

  /** Deletes the entities (every creation and observation of them seen here) and the relations touching them. */
  deleteEntities(names: string[]): void {
    const v = this.read();
    const gone = new Set(names);
    this.write(() => {
      for (const name of gone) {
        const e = v.entities.get(name);
        if (!e) continue;
        for (const c of e.creations) this.map.delete(`e:${c.dot}`);
        for (const o of e.obs) this.map.delete(`o:${o.dot}`);
      }
      for (const r of v.relations) if (gone.has(r.from) || gone.has(r.to)) this.map.delete(`r:${r.dot}`);
    });
  }

  deleteObservations(deletions: Array<{ entityName: string; observations: string[] }>): void {
    const v = this.read();
    this.write(() => {
      for (const d of deletions) {
        const e = v.entities.get(d.entityName);
        if (!e) continue;
        const drop = new Set(d.observations);
        // The last observation of an entity created by no surviving creation would take the
        // entity with it: keep the entity by re-asserting its creation first.
        const remaining = e.obs.filter((o) => !drop.has(o.text));
        if (e.creations.length === 0 && remaining.length === 0 && e.obs.length > 0) {
          this.map.set(`e:${nextDot(this.doc)}`, { name: d.entityName, entityType: e.entity.entityType, n: e.first.n });
        }
        for (const o of e.obs) if (drop.has(o.text)) this.map.delete(`o:${o.dot}`);
      }
    });
  }

  deleteRelations(relations: Relation[]): void {
    const v = this.read();
    const drop = new Set(relations.map(relKey));
    this.write(() => {
      for (const r of v.relations) if (drop.has(relKey(r))) this.map.delete(`r:${r.dot}`);
    });
  }

  readGraph(): Graph {
    const v = this.read();
    return { entities: [...v.entities.values()].map((e) => e.entity), relations: dedupRelations(v.relations) };
  }

  /** The reference server's search: case-insensitive substring of name, type or any observation; relations touching a hit. */
  searchNodes(query: string): Graph {
    const q = query.toLowerCase();
    const entities = this.readGraph().entities.filter(
      (e) => e.name.toLowerCase().includes(q) || e.entityType.toLowerCase().includes(q) || e.observations.some((o) => o.toLowerCase().includes(q)),
    );
    return this.withRelations(entities);
  }

  openNodes(names: string[]): Graph {
    const wanted = new Set(names);
    return this.withRelations(this.readGraph().entities.filter((e) => wanted.has(e.name)));
  }

  private withRelations(entities: Entity[]): Graph {
    const names = new Set(entities.map((e) => e.name));
    return { entities, relations: dedupRelations(this.read().relations).filter((r) => names.has(r.from) || names.has(r.to)) };
  }

  private write(fn: () => void): void {
    this.doc.transact(fn, this);
  }

  /** The merged view of the map, rebuilt after each change. Values that do not parse are skipped alike everywhere. */
  private read(): View {
    if (this.view) return this.view;
    const creations: EntityRec[] = [];
    const obs: ObsRec[] = [];
    const relations: RelRec[] = [];
    let maxN = 0;
    this.map.forEach((value, key) => {
      if (!isObj(value) || typeof value.n !== 'number' || !Number.isFinite(value.n)) return;
      const dot = key.slice(2);
      const n = value.n;
      if (key.startsWith('e:') && str(value.name) && str(value.entityType)) creations.push({ dot, name: value.name, entityType: value.entityType, n });
      else if (key.startsWith('o:') && str(value.entity) && str(value.entityType) && str(value.text)) obs.push({ dot, entity: value.entity, entityType: value.entityType, text: value.text, n });
      else if (key.startsWith('r:') && str(value.from) && str(value.to) && str(value.relationType)) relations.push({ dot, from: value.from, to: value.to, relationType: value.relationType, n });
      else return;
      if (n > maxN) maxN = n;
    });
    creations.sort(byOrder);
    obs.sort(byOrder);
    relations.sort(byOrder);
    type Slot = View['entities'] extends Map<string, infer S> ? S : never;
    const slots = new Map<string, Slot>();
    const slot = (name: string, entityType: string, at: { n: number; dot: string }): Slot => {
      let s = slots.get(name);
      if (!s) slots.set(name, (s = { entity: { name, entityType, observations: [] }, creations: [], obs: [], first: at }));
      return s;
    };
    for (const c of creations) slot(c.name, c.entityType, c).creations.push(c);
    for (const o of obs) {
      const s = slot(o.entity, o.entityType, o);
      s.obs.push(o);
      if (!s.entity.observations.includes(o.text)) s.entity.observations.push(o.text);
    }
    // Entities in order of their first creation or observation.
    const entities = new Map([...slots.entries()].sort((a, b) => byOrder(a[1].first, b[1].first)));
    this.view = { entities, relations, maxN };
    return this.view;
  }
}

function dedupRelations(rels: RelRec[]): Relation[] {
  const seen = new Set<string>();
  const out: Relation[] = [];
  for (const r of rels) {
    const rel = { from: r.from, to: r.to, relationType: r.relationType };
    const k = relKey(rel);
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(rel);
  }
  return out;
}
