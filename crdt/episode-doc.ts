// One agent's memory: a Y.Doc of TRMM episodes with semantic merges (schema.ts). Sans-IO:
// time comes in through `ctx.now`, identity and randomness through the constructor, so the
// simulator replays a seed into byte-identical updates. Every public write runs in exactly
// one doc.transact, so storage and replication see exactly one Yjs update per write (none
// for a write that changes nothing, such as untagging an absent tag).

import * as Y from 'yjs';
import { NotFoundError, UsageError } from '../errors/index.js';
import { addToSet, assertTag, removeFromSet } from './add-wins-set.js';
import { assertCounterArgs, incrementSlot } from './counter-slots.js';
import { docDigest } from './doc-digest.js';
import { compareEpisodes, episodeToJson, type Episode } from './episode-json.js';
import { randomClientId, randomHexId } from './ids.js';
import { assertJson, type Json } from './json.js';
import { MEMORY_SCHEMA } from './memory-schema.js';
import { assertFieldName, setRegister } from './mv-register.js';
import { episodeParts, episodesOf, KEY, type EpisodeMap, type EpisodeParts } from './schema.js';
import { applyRemoteUpdate, deltaSince, stateVector, type ApplyOptions, type ApplyResult } from './updates.js';

export interface AgentMemoryOptions {
  /** Name of the node this replica runs on; recorded in the episodes it creates. */
  node: string;
  /** Uniform randomness in [0, 1): episode ids and the Yjs client id come from it. */
  random: () => number;
  /** Used as the Y.Doc guid (Yjs would otherwise draw a random uuid). */
  agentId?: string;
  /** Wrap an existing doc (e.g. rebuilt from storage) instead of creating one. */
  doc?: Y.Doc;
  /**
   * Write as this Yjs client id instead of a fresh one: only an id an earlier instance in this
   * process wrote with and retired (retireClientId), when `doc` holds exactly the clock it ended at.
   */
  clientId?: number;
}

export interface NewEpisode {
  task: string;
  outcome: string;
  note?: string;
  tags?: string[];
  fields?: Record<string, Json>;
  counters?: Record<string, number>;
}

export interface WriteContext {
  /** Creation time in milliseconds from the injected clock. */
  now: number;
  /** Overrides the constructor's node name for this episode. */
  node?: string;
  /**
   * A caller-derived episode id (16 lowercase hex) instead of a random one, for an episode that
   * must exist once per something (a task): if the document holds it already, nothing is written.
   * Two replicas that each write it unaware of the other set one map key, and Yjs keeps one.
   */
  id?: string;
}

export interface MemoryChange {
  /** The Yjs v1 update for this transaction: append it to the log, replicate it. */
  update: Uint8Array;
  origin: unknown;
  /** True for writes made through this AgentMemoryDoc, false for applied remote updates. */
  local: boolean;
}

export class AgentMemoryDoc {
  readonly doc: Y.Doc;
  private readonly node: string;
  private readonly random: () => number;
  private readonly episodes: Y.Map<EpisodeMap>;
  /** The client id we chose; Yjs replaces doc.clientID if it sees a peer using the same one. */
  private clientId: number;

  constructor(options: AgentMemoryOptions) {
    this.node = options.node;
    this.random = options.random;
    this.doc = options.doc ?? new Y.Doc(options.agentId === undefined ? {} : { guid: options.agentId });
    // Drawn even when an id is given: a seeded simulation's random stream must not depend on
    // which documents residency unloaded (one draw fewer shifted every later random choice).
    const drawn = randomClientId(this.random);
    this.clientId = options.clientId ?? drawn;
    this.doc.clientID = this.clientId;
    this.episodes = episodesOf(this.doc);
  }

  /**
   * Stops writing as the current client id (its document was unloaded, and a reload may write as
   * it): returns the id and its clock in this document, or undefined when Yjs had swapped it (a
   * peer used it). Later writes through this instance use `replacement`, with no random draw.
   */
  retireClientId(replacement: number): { id: number; clock: number } | undefined {
    const own = this.doc.clientID === this.clientId ? { id: this.clientId, clock: Y.getState(this.doc.store, this.clientId) } : undefined;
    this.clientId = replacement;
    this.doc.clientID = replacement;
    return own;
  }

  get clientID(): number {
    return this.doc.clientID;
  }

  addEpisode(input: NewEpisode, ctx: WriteContext): string {
    if (typeof input?.task !== 'string' || typeof input.outcome !== 'string') {
      throw new UsageError('an episode needs a task and an outcome, both strings');
    }
    if (typeof ctx?.now !== 'number' || !Number.isFinite(ctx.now)) {
      throw new UsageError('addEpisode needs ctx.now, the creation time in milliseconds');
    }
    const tags = input.tags ?? [];
    if (!Array.isArray(tags)) throw new UsageError('episode tags must be an array of strings');
    tags.forEach(assertTag);
    const fields = Object.entries(input.fields ?? {});
    for (const [name, value] of fields) {
      assertFieldName(name);
      assertJson(value, `value of field "${name}"`);
    }
    const counters = Object.entries(input.counters ?? {});
    for (const [name, by] of counters) assertCounterArgs(name, by);

    if (ctx.id !== undefined) {
      if (typeof ctx.id !== 'string' || !/^[0-9a-f]{16}$/.test(ctx.id)) throw new UsageError(`an episode id is 16 lowercase hex characters, got ${JSON.stringify(ctx.id)}`);
      if (this.episodes.has(ctx.id)) return ctx.id; // idempotent: this episode was written already
    }
    let id = ctx.id ?? randomHexId(this.random);
    while (this.episodes.has(id)) id = randomHexId(this.random);
    this.write(() => {
      const episode: EpisodeMap = new Y.Map<unknown>();
      this.episodes.set(id, episode);
      episode.set(KEY.task, input.task);
      episode.set(KEY.outcome, input.outcome);
      episode.set(KEY.node, ctx.node ?? this.node);
      episode.set(KEY.createdAt, ctx.now);
      const notes = new Y.Text();
      episode.set(KEY.notes, notes);
      if (input.note) notes.insert(0, input.note);
      const counterMap = episode.set(KEY.counters, new Y.Map<unknown>());
      for (const [name, by] of counters) incrementSlot(counterMap, this.doc.clientID, name, by);
      const tagMap = episode.set(KEY.tags, new Y.Map<unknown>());
      for (const tag of tags) addToSet(tagMap, this.doc, tag);
      const fieldMap = episode.set(KEY.fields, new Y.Map<unknown>());
      for (const [name, value] of fields) setRegister(fieldMap, this.doc, name, value);
    });
    return id;
  }

  appendNote(id: string, text: string): void {
    if (typeof text !== 'string') throw new UsageError('a note must be a string');
    const { notes } = this.episode(id);
    if (text.length === 0) return;
    this.write(() => notes.insert(notes.length, text));
  }

  increment(id: string, name: string, by = 1): void {
    const { counters } = this.episode(id);
    assertCounterArgs(name, by);
    this.write(() => incrementSlot(counters, this.doc.clientID, name, by));
  }

  tag(id: string, tag: string): void {
    const { tags } = this.episode(id);
    assertTag(tag);
    this.write(() => addToSet(tags, this.doc, tag));
  }

  untag(id: string, tag: string): void {
    const { tags } = this.episode(id);
    assertTag(tag);
    this.write(() => removeFromSet(tags, tag));
  }

  set(id: string, field: string, value: Json): void {
    const { fields } = this.episode(id);
    assertFieldName(field);
    assertJson(value, `value of field "${field}"`);
    this.write(() => setRegister(fields, this.doc, field, value));
  }

  get(id: string): Episode | undefined {
    const parts = episodeParts(this.episodes.get(id));
    return parts === undefined ? undefined : episodeToJson(id, parts);
  }

  has(id: string): boolean {
    return episodeParts(this.episodes.get(id)) !== undefined;
  }

  list(): Episode[] {
    const out: Episode[] = [];
    this.episodes.forEach((map, id) => {
      const parts = episodeParts(map);
      if (parts !== undefined) out.push(episodeToJson(id, parts));
    });
    return out.sort(compareEpisodes);
  }

  /** Calls `cb` once per transaction that changed the doc, local or remote. Returns an unsubscribe. */
  onChange(cb: (change: MemoryChange) => void): () => void {
    const handler = (update: Uint8Array, origin: unknown, _doc: Y.Doc, tr: Y.Transaction): void =>
      cb({ update, origin, local: tr.local });
    this.doc.on('update', handler);
    return () => this.doc.off('update', handler);
  }

  /** Validated apply of a peer's update (DecodeError on bad bytes, nothing changed). */
  applyRemote(update: Uint8Array, origin: unknown, options: Omit<ApplyOptions, 'schema'> = {}): ApplyResult {
    return applyRemoteUpdate(this.doc, update, origin, { ...options, schema: MEMORY_SCHEMA });
  }

  stateVector(): Uint8Array {
    return stateVector(this.doc);
  }

  deltaSince(remoteStateVector: Uint8Array): Uint8Array {
    return deltaSince(this.doc, remoteStateVector);
  }

  digest(): Uint8Array {
    return docDigest(this.doc);
  }

  private episode(id: string): EpisodeParts {
    const parts = episodeParts(this.episodes.get(id));
    if (parts === undefined) {
      throw new NotFoundError(`episode ${id} does not exist in this agent's memory; list() shows the ids it holds`);
    }
    return parts;
  }

  /**
   * One transaction per public write, with this object as origin. If Yjs swapped our client
   * id after seeing it on a peer, pick a new one from the injected randomness first, so the
   * replacement is reproducible too.
   */
  private write(fn: () => void): void {
    if (this.doc.clientID !== this.clientId) {
      this.clientId = randomClientId(this.random);
      this.doc.clientID = this.clientId;
    }
    this.doc.transact(fn, this);
  }
}
