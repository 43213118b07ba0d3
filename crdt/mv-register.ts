// Fields as multi-value registers (Dynamo/Riak siblings). A set stores {f: field, v: value}
// under a fresh dot and deletes the dots of that field it has seen. Two concurrent sets each
// delete only what they saw, so both values stay live and read as { conflict: [...] }; the
// next set made after seeing both deletes both and resolves the conflict.

import type * as Y from 'yjs';
import { UsageError } from '../errors/index.js';
import { assertJson, canonicalJson, cloneJson, type Json } from './json.js';
import { compareDots, nextDot } from './schema.js';

export interface Conflict {
  conflict: Json[];
}

export type FieldValue = Json | Conflict;

interface Entry {
  f: string;
  v: Json;
}

function isEntry(value: unknown): value is Entry {
  return typeof value === 'object' && value !== null && typeof (value as Entry).f === 'string' && 'v' in value;
}

export function assertFieldName(field: string): void {
  if (typeof field !== 'string' || field.length === 0) {
    throw new UsageError('a field name must be a non-empty string');
  }
}

export function setRegister(fields: Y.Map<unknown>, doc: Y.Doc, field: string, value: Json): void {
  assertFieldName(field);
  assertJson(value, `value of field "${field}"`);
  fields.forEach((entry, dot) => {
    if (isEntry(entry) && entry.f === field) fields.delete(dot);
  });
  const entry: Entry = { f: field, v: cloneJson(value) };
  fields.set(nextDot(doc), entry);
}

/**
 * Field name -> value, or { conflict } with the sibling values ordered by dot (client id,
 * then clock) so every replica lists them alike. Siblings holding equal JSON collapse into
 * one value: two replicas that agreed are not in conflict.
 */
export function readRegisters(fields: Y.Map<unknown>): Record<string, FieldValue> {
  const siblings = new Map<string, { dot: string; v: Json }[]>();
  fields.forEach((entry, dot) => {
    if (!isEntry(entry)) return;
    const list = siblings.get(entry.f) ?? [];
    list.push({ dot, v: entry.v });
    siblings.set(entry.f, list);
  });
  const out: Record<string, FieldValue> = {};
  for (const field of [...siblings.keys()].sort()) {
    const seen = new Set<string>();
    const values: Json[] = [];
    for (const s of (siblings.get(field) ?? []).sort((a, b) => compareDots(a.dot, b.dot))) {
      const key = canonicalJson(s.v);
      if (seen.has(key)) continue;
      seen.add(key);
      values.push(cloneJson(s.v));
    }
    out[field] = values.length === 1 ? (values[0] as Json) : { conflict: values };
  }
  return out;
}
