// Checks of the knowledge-graph tool arguments (the reference memory server's shapes), made on
// the node for every client, so a bad call is refused with a reason before anything is written.
import type { Entity, Relation } from '../../crdt/knowledge-graph.js';
import { ConfigError } from '../errors.js';

const MAX_ITEMS = 1000;
const MAX_STRING = 64 * 1024;

function strings(v: unknown, what: string): string[] {
  if (!Array.isArray(v) || v.length > MAX_ITEMS || v.some((s) => typeof s !== 'string' || s.length > MAX_STRING)) {
    throw new ConfigError(`${what} must be an array of at most ${MAX_ITEMS} strings of at most 64 KiB`);
  }
  return v as string[];
}
function string(v: unknown, what: string): string {
  if (typeof v !== 'string' || v.length > MAX_STRING) throw new ConfigError(`${what} must be a string of at most 64 KiB`);
  return v;
}
function list<T>(v: unknown, what: string, item: (x: Record<string, unknown>, i: number) => T): T[] {
  if (!Array.isArray(v) || v.length > MAX_ITEMS) throw new ConfigError(`${what} must be an array of at most ${MAX_ITEMS} objects`);
  return v.map((x, i) => {
    if (typeof x !== 'object' || x === null || Array.isArray(x)) throw new ConfigError(`${what}[${i}] must be an object`);
    return item(x as Record<string, unknown>, i);
  });
}

export const entities = (v: unknown): Entity[] =>
  list(v, 'entities', (e, i) => ({ name: string(e.name, `entities[${i}].name`), entityType: string(e.entityType, `entities[${i}].entityType`), observations: strings(e.observations, `entities[${i}].observations`) }));
export const relations = (v: unknown): Relation[] =>
  list(v, 'relations', (r, i) => ({ from: string(r.from, `relations[${i}].from`), to: string(r.to, `relations[${i}].to`), relationType: string(r.relationType, `relations[${i}].relationType`) }));
export const observations = (v: unknown): Array<{ entityName: string; contents: string[] }> =>
  list(v, 'observations', (o, i) => ({ entityName: string(o.entityName, `observations[${i}].entityName`), contents: strings(o.contents, `observations[${i}].contents`) }));
export const deletions = (v: unknown): Array<{ entityName: string; observations: string[] }> =>
  list(v, 'deletions', (o, i) => ({ entityName: string(o.entityName, `deletions[${i}].entityName`), observations: strings(o.observations, `deletions[${i}].observations`) }));
export const names = (v: unknown, what: string): string[] => strings(v, what);
export const query = (v: unknown): string => string(v, 'query');
