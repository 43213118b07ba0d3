// The `wordcount` built-in: {text} -> {words, lines, chars, top}. Counts are what `wc` users
// expect (words are whitespace-separated runs; lines are line breaks plus a last unterminated
// line); `top` ranks normalised words (lower case, letters/digits/apostrophes only) so "The"
// and "the," count as one.
import { UsageError } from '../errors.js';
import type { Json } from './types.js';

export const TOP_WORDS = 10;

export interface WordCount {
  words: number;
  lines: number;
  /** Unicode code points, not UTF-16 units: "é" and "😀" are one char each. */
  chars: number;
  /** The most frequent words, most frequent first, ties in alphabetical order. */
  top: [string, number][];
}

export function countWords(text: string, topN = TOP_WORDS): WordCount {
  const words = text.split(/\s+/u).filter((w) => w.length > 0).length;
  const breaks = (text.match(/\r\n|\r|\n/gu) ?? []).length;
  const lines = text.length === 0 ? 0 : breaks + (/(\r\n|\r|\n)$/u.test(text) ? 0 : 1);
  const chars = [...text].length;
  const counts = new Map<string, number>();
  for (const raw of text.toLowerCase().match(/[\p{L}\p{N}]+(?:['’][\p{L}\p{N}]+)*/gu) ?? []) {
    counts.set(raw, (counts.get(raw) ?? 0) + 1);
  }
  const top = [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, topN);
  return { words, lines, chars, top };
}

export function wordcountAgent(input: Json): Json {
  const text = typeof input === 'object' && input !== null && !Array.isArray(input) ? input.text : undefined;
  if (typeof text !== 'string') throw new UsageError('wordcount needs input {"text": "..."} with a string text');
  const r = countWords(text);
  return { words: r.words, lines: r.lines, chars: r.chars, top: r.top };
}
