// Shallow checks of the JSON a node replies with, one per reply kind: they catch a node of another
// version or a reply to another method, not a hostile node (a client talks to the node its
// operator named, over TLS). NodeClient.call takes one with every call.
import type { Episode } from '../../crdt/index.js';

type JsonKind = 'string' | 'number' | 'boolean' | 'object' | 'array';

export type ReplyShape<T> = (v: unknown) => v is T;

/** An object whose named fields have these JSON kinds. */
export function objectWith<T>(fields: Record<string, JsonKind>): ReplyShape<T> {
  return (v: unknown): v is T => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
    const o = v as Record<string, unknown>;
    return Object.entries(fields).every(([k, kind]) => (kind === 'array' ? Array.isArray(o[k]) : kind === 'object' ? typeof o[k] === 'object' && o[k] !== null : typeof o[k] === kind));
  };
}

export function arrayOf<T>(item: ReplyShape<T>): ReplyShape<T[]> {
  return (v: unknown): v is T[] => Array.isArray(v) && v.every((x) => item(x));
}

export const isEpisode = objectWith<Episode>({ id: 'string', task: 'string', outcome: 'string', tags: 'array' });

/** memory.agents: every agent this node holds, with its episode count. */
export const isAgentList = arrayOf(objectWith<{ agent: string; episodes: number }>({ agent: 'string', episodes: 'number' }));
