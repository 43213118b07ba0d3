// One agent's memory over several documents (docs/segmented-memory.md): the root document, the
// one an agent has always had, and past SPLIT_AT episodes up to 2^SEGMENT_BITS segment documents
// that hold the episodes created after the split. A SegmentedMemory is an AgentMemoryDoc over the
// root whose episode operations route to the document holding the episode (rules 1-3), so every
// caller of AgentMemoryDoc works unchanged; an unsplit agent is exactly an AgentMemoryDoc.
import * as Y from 'yjs';
import { createHash } from 'node:crypto';
import { NotFoundError } from '../errors/index.js';
import { computeDocDigest } from './doc-digest.js';
import { AgentMemoryDoc, type AgentMemoryOptions, type NewEpisode, type WriteContext } from './episode-doc.js';
import { compareEpisodes, type Episode } from './episode-json.js';
import { randomHexId } from './ids.js';
import { canonicalJson, type Json } from './json.js';
import type { FieldValue } from './mv-register.js';
import { episodesOf } from './schema.js';
import { SEGMENT_BITS, SPLIT_AT, segmentOf } from './segments.js';

/**
 * The split register: a reserved key of the root's `episodes` map (a plain number, like the
 * retention policy's '~policy'), so the memory schema and every reader of old versions accept
 * and skip it. It only ever goes from absent to SEGMENT_BITS.
 */
export const SEGMENT_BITS_KEY = '~segmentBits';

/** The segment documents of one agent, opened by the node (their names: segments.ts segmentDocName). */
export interface SegmentSource {
  /** Segment `k`, opened (and created) for a write. */
  open(segment: number): AgentMemoryDoc;
  /** Segment `k` if this node holds it, without creating it. */
  peek(segment: number): AgentMemoryDoc | undefined;
}

export interface SegmentedMemoryOptions extends AgentMemoryOptions {
  segments: SegmentSource;
  /** Whether this node splits a root that reached `splitAt` episodes (a node option; off: it only reads splits). */
  split: boolean;
  /** Episodes in the root past which it splits: SPLIT_AT (smaller only in tests). */
  splitAt?: number;
}

/** The split register of a root document: 0 (unsplit) or SEGMENT_BITS; anything else a peer wrote reads as 0 everywhere. */
export function segmentBitsOf(root: Y.Doc): number {
  return episodesOf(root).get(SEGMENT_BITS_KEY) === (SEGMENT_BITS as unknown) ? SEGMENT_BITS : 0;
}

const DIGEST_TAG = 'trinity-segmented-digest-1';
let emptyDigest: Uint8Array | undefined;

export class SegmentedMemory extends AgentMemoryDoc {
  private readonly segments: SegmentSource;
  private readonly splits: boolean;
  private readonly splitAt: number;
  private readonly rand: () => number;

  constructor(o: SegmentedMemoryOptions) {
    super(o);
    this.segments = o.segments;
    this.splits = o.split;
    this.splitAt = o.splitAt ?? SPLIT_AT;
    this.rand = o.random;
  }

  /** 0 while the agent is one document, SEGMENT_BITS once split. */
  segmentBits(): number {
    return segmentBitsOf(this.doc);
  }

  /** Every document of the agent this node holds, root first then segments in order (absent segments skipped). */
  heldDocs(): AgentMemoryDoc[] {
    const out: AgentMemoryDoc[] = [this];
    const bits = this.segmentBits();
    for (let k = 0; bits > 0 && k < 2 ** bits; k++) {
      const s = this.segments.peek(k);
      if (s) out.push(s);
    }
    return out;
  }

  /** Sets the split register (its own transaction in the root); a no-op once split. */
  split(): void {
    if (this.segmentBits() !== 0) return;
    this.doc.transact(() => episodesOf(this.doc).set(SEGMENT_BITS_KEY, SEGMENT_BITS as unknown as Y.Map<unknown>), this);
  }

  override addEpisode(input: NewEpisode, ctx: WriteContext): string {
    const splitting = this.segmentBits() === 0 && this.splits && episodesOf(this.doc).size >= this.splitAt;
    const bits = splitting ? SEGMENT_BITS : this.segmentBits();
    if (bits === 0 || !ctx || (ctx.id !== undefined && !isEpisodeId(ctx.id))) return super.addEpisode(input, ctx); // unsplit, or a bad id refused as today
    if (ctx.id !== undefined && this.rootHas(ctx.id)) return ctx.id; // idempotent: written before the split (rule 1)
    let id = ctx.id ?? randomHexId(this.rand);
    while (ctx.id === undefined && (this.rootHas(id) || this.segments.peek(segmentOf(id, bits))?.has(id))) id = randomHexId(this.rand);
    // The episode first (its checks refuse bad input with nothing written), then the split register.
    const written = this.segments.open(segmentOf(id, bits)).addEpisode(input, { ...ctx, id });
    if (splitting) this.split();
    return written;
  }

  override appendNote(id: string, text: string): void {
    this.routed(id, (d) => d.appendNote(id, text), () => super.appendNote(id, text));
  }
  override increment(id: string, name: string, by = 1): void {
    this.routed(id, (d) => d.increment(id, name, by), () => super.increment(id, name, by));
  }
  override tag(id: string, tag: string): void {
    this.routed(id, (d) => d.tag(id, tag), () => super.tag(id, tag));
  }
  override untag(id: string, tag: string): void {
    this.routed(id, (d) => d.untag(id, tag), () => super.untag(id, tag));
  }
  override set(id: string, field: string, value: Json): void {
    this.routed(id, (d) => d.set(id, field, value), () => super.set(id, field, value));
  }

  /** Rule 3: the root's copy wins, and a segment copy of the same id (a concurrent derived create) merges into the view. */
  override get(id: string): Episode | undefined {
    const inRoot = super.get(id);
    if (this.segmentBits() === 0 || !isEpisodeId(id)) return inRoot;
    const inSegment = this.segmentFor(id, false)?.get(id);
    if (!inRoot || !inSegment) return inRoot ?? inSegment;
    return mergeCopies(inRoot, inSegment);
  }

  override has(id: string): boolean {
    if (super.has(id)) return true;
    return this.segmentBits() !== 0 && isEpisodeId(id) && (this.segmentFor(id, false)?.has(id) ?? false);
  }

  /** Every episode of every document, oldest first (loads every segment this node holds). */
  override list(): Episode[] {
    const byId = new Map<string, Episode>();
    for (const e of super.list()) byId.set(e.id, e);
    for (const d of this.heldDocs().slice(1)) {
      for (const e of d.list()) {
        const inRoot = byId.get(e.id);
        byId.set(e.id, inRoot && this.rootHas(e.id) ? mergeCopies(inRoot, e) : e);
      }
    }
    return [...byId.values()].sort(compareEpisodes);
  }

  /** Rule 8: unsplit, the root's own digest (today's); split, a hash of the root's and every segment's digest in order. */
  override digest(): Uint8Array {
    const bits = this.segmentBits();
    if (bits === 0) return super.digest();
    const h = createHash('sha256').update(DIGEST_TAG).update(super.digest());
    emptyDigest ??= computeDocDigest(new Y.Doc());
    for (let k = 0; k < 2 ** bits; k++) h.update(this.segments.peek(k)?.digest() ?? emptyDigest);
    return new Uint8Array(h.digest());
  }

  /** The document holding episode `id` for a read (rule 2), or undefined when no document holds it. */
  holderOf(id: string): AgentMemoryDoc | undefined {
    if (this.rootHas(id) || this.segmentBits() === 0) return this.rootHas(id) ? this : undefined;
    const s = isEpisodeId(id) ? this.segmentFor(id, false) : undefined;
    return s?.has(id) ? s : undefined;
  }

  private rootHas(id: string): boolean {
    return episodesOf(this.doc).get(id) instanceof Y.Map;
  }

  private segmentFor(id: string, create: boolean): AgentMemoryDoc | undefined {
    const k = segmentOf(id, this.segmentBits());
    return create ? this.segments.open(k) : this.segments.peek(k);
  }

  /** Rule 2: an edit goes to the root when it holds the episode, else to the episode's segment. */
  private routed(id: string, inSegment: (d: AgentMemoryDoc) => void, inRoot: () => void): void {
    if (this.rootHas(id) || this.segmentBits() === 0 || !isEpisodeId(id)) return inRoot();
    const s = this.segmentFor(id, false);
    if (!s?.has(id)) throw new NotFoundError(`episode ${id} does not exist in this agent's memory; list() shows the ids it holds`);
    inSegment(s);
  }
}

function isEpisodeId(id: string): boolean {
  return typeof id === 'string' && /^[0-9a-f]{16}$/.test(id);
}

/** Two CRDT states of one episode as one (rule 3): the root's plain values, notes in sequence, tags united, counters summed, field values united. */
export function mergeCopies(root: Episode, other: Episode): Episode {
  const counters: Record<string, number> = { ...root.counters };
  for (const [k, v] of Object.entries(other.counters)) counters[k] = (counters[k] ?? 0) + v;
  const fields: Record<string, FieldValue> = {};
  for (const name of [...new Set([...Object.keys(root.fields), ...Object.keys(other.fields)])].sort()) {
    const values = new Map<string, Json>();
    for (const v of [root.fields[name], other.fields[name]]) {
      if (v === undefined) continue;
      const list = typeof v === 'object' && v !== null && !Array.isArray(v) && 'conflict' in v && Array.isArray(v.conflict) ? v.conflict : [v as Json];
      for (const x of list) values.set(canonicalJson(x), x);
    }
    const sorted = [...values.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, x]) => x);
    fields[name] = sorted.length === 1 ? sorted[0]! : { conflict: sorted };
  }
  const tags = [...new Set([...root.tags, ...other.tags])].sort();
  return { ...root, notes: root.notes + other.notes, tags, counters, fields };
}
