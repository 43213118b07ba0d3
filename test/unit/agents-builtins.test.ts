import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createAgentRegistry, MAX_SHA256_ROUNDS } from '../../src/agents/index.js';
import { runAgent } from '../../src/agents/run-agent.js';
import type { AgentContext } from '../../src/agents/types.js';
import { countWords } from '../../src/agents/wordcount.js';

const ctx = (signal: AbortSignal = new AbortController().signal): AgentContext => ({ taskId: 't1', agentId: 'a1', node: 'n1', signal });
const registry = createAgentRegistry();

describe('built-in agents', () => {
  it('are registered by default', () => expect(registry.types()).toEqual(['echo', 'sha256', 'sleep', 'wordcount']));

  it('echo returns its input (a copy)', async () => {
    const input = { a: [1, 'two', null, { b: true }] };
    const out = await runAgent(registry, 'echo', input, ctx());
    expect(out).toMatchObject({ ok: true, result: input });
  });

  it.each([
    ['', { words: 0, lines: 0, chars: 0, top: [] }],
    ['hello', { words: 1, lines: 1, chars: 5, top: [['hello', 1]] }],
    ['the cat\nthe hat\n', { words: 4, lines: 2, chars: 16, top: [['the', 2], ['cat', 1], ['hat', 1]] }],
    ['The the, THE! it\'s  ok\r\nlast', { words: 6, lines: 2, chars: 28, top: [['the', 3], ["it's", 1], ['last', 1], ['ok', 1]] }],
    ['café 😀 café', { words: 3, lines: 1, chars: 11, top: [['café', 2]] }],
  ])('wordcount %j', (text, want) => expect(countWords(text)).toEqual(want));

  it('wordcount keeps the top 10, most frequent first, ties alphabetical', async () => {
    const text = 'k '.repeat(12) + 'a b c d e f g h i j l m'.split(' ').map((w, i) => `${w} `.repeat(i % 2 === 0 ? 2 : 1)).join('');
    const out = await runAgent(registry, 'wordcount', { text }, ctx());
    if (!out.ok) throw new Error(out.error);
    const top = (out.result as { top: [string, number][] }).top;
    expect(top).toHaveLength(10);
    expect(top[0]).toEqual(['k', 12]);
    expect(top.slice(1, 7)).toEqual([['a', 2], ['c', 2], ['e', 2], ['g', 2], ['i', 2], ['l', 2]]);
    expect(top.slice(7)).toEqual([['b', 1], ['d', 1], ['f', 1]]);
  });

  it('sha256 iterates the hash `rounds` times', async () => {
    let d = createHash('sha256').update('abc').digest();
    for (let i = 1; i < 25_000; i++) d = createHash('sha256').update(d).digest();
    await expect(runAgent(registry, 'sha256', { data: 'abc', rounds: 25_000 }, ctx())).resolves.toMatchObject({ ok: true, result: { digest: d.toString('hex'), rounds: 25_000 } });
    await expect(runAgent(registry, 'sha256', { data: 'abc' }, ctx())).resolves.toMatchObject({
      ok: true,
      result: { digest: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad', rounds: 1 },
    });
  });

  it.each([
    ['sha256', { data: 1 }, /string data/],
    ['sha256', { data: 'x', rounds: MAX_SHA256_ROUNDS + 1 }, /rounds must be an integer from 1 to 1000000/],
    ['sha256', { data: 'x', rounds: 1.5 }, /rounds/],
    ['wordcount', { txt: 'x' }, /\{"text"/],
    ['wordcount', 'just a string', /\{"text"/],
    ['sleep', { ms: -1 }, /sleep needs input/],
    ['sleep', { ms: 1e9 }, /from 0 to 600000/],
  ])('%s rejects bad input %j with a failed outcome', async (type, input, msg) => {
    const out = await runAgent(registry, type, input, ctx());
    expect(out.ok).toBe(false);
    if (!out.ok) expect(out.error).toMatch(msg);
  });

  it('sleep waits, and stops at once when aborted', async () => {
    await expect(runAgent(registry, 'sleep', { ms: 5 }, ctx())).resolves.toMatchObject({ ok: true, result: { sleptMs: 5 } });
    const ac = new AbortController();
    const started = performance.now();
    const pending = runAgent(registry, 'sleep', { ms: 60_000 }, ctx(ac.signal));
    setTimeout(() => ac.abort(new Error('revoked by token 2')), 10);
    const out = await pending;
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(out.ok).toBe(false);
    if (!out.ok) expect(out.error).toMatch(/aborted.*revoked by token 2/);
  });

  it('sha256 honours the abort signal between slices', async () => {
    const ac = new AbortController();
    const pending = runAgent(registry, 'sha256', { data: 'x', rounds: MAX_SHA256_ROUNDS }, ctx(ac.signal));
    ac.abort(new Error('stop'));
    const out = await pending;
    expect(out).toMatchObject({ ok: false });
    if (!out.ok) expect(out.error).toMatch(/aborted: stop/);
  });
});
