import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, UnknownAgentTypeError } from '../../src/errors.js';
import { AgentRegistry, createAgentRegistry, loadAgentModule, runAgent } from '../../src/agents/index.js';
import type { AgentContext } from '../../src/agents/types.js';

const ctx = (): AgentContext => ({ taskId: 't1', agentId: 'a1', node: 'n1', signal: new AbortController().signal });
const dir = mkdtempSync(join(tmpdir(), 'tri-agents-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function module(name: string, source: string): string {
  const file = join(dir, name);
  writeFileSync(file, source);
  return file;
}

describe('agent registry', () => {
  it('unknown type -> UnknownAgentTypeError naming the known types', () => {
    const r = createAgentRegistry();
    expect(() => r.get('summarize')).toThrow(UnknownAgentTypeError);
    expect(() => r.get('summarize')).toThrow(/echo, sha256, sleep, wordcount/);
  });

  it('unknown type at run time is a failed outcome, not a crash', async () => {
    const out = await runAgent(createAgentRegistry(), 'nope', {}, ctx());
    expect(out).toMatchObject({ ok: false, error: expect.stringMatching(/unknown agent type "nope"/) });
  });

  it('defineAgent validates names and handlers and refuses silent redefinition', () => {
    const r = new AgentRegistry();
    expect(() => r.defineAgent('bad name', () => null)).toThrow(ConfigError);
    expect(() => r.defineAgent('ok', 42 as never)).toThrow(/not a function/);
    r.defineAgent('ok', () => 1);
    expect(() => r.defineAgent('ok', () => 2)).toThrow(/already defined/);
    r.defineAgent('ok', () => 2, { replace: true });
    expect(r.types()).toEqual(['ok']);
  });

  it('a throwing agent, a rejecting agent and a non-JSON output all become failed outcomes with the reason', async () => {
    const r = new AgentRegistry();
    r.defineAgent('throws', () => {
      throw new Error('boom');
    });
    r.defineAgent('rejects', async () => Promise.reject('nope'));
    r.defineAgent('fn-out', () => (() => 1) as never);
    r.defineAgent('void', () => undefined as never);
    r.defineAgent('mutates', (input) => {
      (input as { x: number }).x = 99;
      return input;
    });
    expect(await runAgent(r, 'throws', {}, ctx())).toMatchObject({ ok: false, error: 'agent "throws" failed: boom' });
    expect(await runAgent(r, 'rejects', {}, ctx())).toMatchObject({ ok: false, error: 'agent "rejects" failed: nope' });
    expect(await runAgent(r, 'fn-out', {}, ctx())).toMatchObject({ ok: false, error: expect.stringMatching(/not JSON/) });
    expect(await runAgent(r, 'void', {}, ctx())).toMatchObject({ ok: true, result: null });
    expect(await runAgent(r, 'throws', { bad: Number.NaN }, ctx())).toMatchObject({ ok: false, error: expect.stringMatching(/input .* is not JSON/) });
    const input = { x: 1 };
    expect(await runAgent(r, 'mutates', input, ctx())).toMatchObject({ ok: true, result: { x: 99 } });
    expect(input.x).toBe(1);
  });
});

describe('user agent modules', () => {
  it('loads a default-exported object of handlers, which then run with their context', async () => {
    const file = module('default.mjs', `export default {
      shout: async (input) => String(input.text).toUpperCase(),
      whoami: (_input, ctx) => ({ task: ctx.taskId, agent: ctx.agentId, node: ctx.node }),
    };`);
    const r = createAgentRegistry();
    expect(await loadAgentModule(r, file)).toEqual(['shout', 'whoami']);
    expect(await runAgent(r, 'shout', { text: 'hi' }, ctx())).toMatchObject({ ok: true, result: 'HI' });
    expect(await runAgent(r, 'whoami', null, ctx())).toMatchObject({ ok: true, result: { task: 't1', agent: 'a1', node: 'n1' } });
  });

  it('loads named function exports, resolving a relative path against baseDir', async () => {
    module('named.mjs', 'export function reverse(input) { return [...input].reverse(); }\nexport const version = 3;\n');
    const r = new AgentRegistry();
    expect(await loadAgentModule(r, './named.mjs', { baseDir: dir })).toEqual(['reverse']);
    expect(await runAgent(r, 'reverse', [1, 2, 3], ctx())).toMatchObject({ ok: true, result: [3, 2, 1] });
  });

  it('loads an `agents` object export', async () => {
    const file = module('agents-export.mjs', 'export const agents = { one: () => 1 };\n');
    const r = new AgentRegistry();
    expect(await loadAgentModule(r, file)).toEqual(['one']);
  });

  it.each([
    ['a missing file', null, /does not exist/],
    ['a syntax error', 'export default {', /failed to load/],
    ['a module that throws on import', 'throw new Error("init failed");', /failed to load: init failed/],
    ['no handlers', 'export const x = 1;', /exports no agent handlers/],
    ['a lone default function', 'export default async function () { return 1; }', /single function/],
    ['a non-function entry', 'export default { good: () => 1, bad: 42 };', /"bad" is a number/],
    ['a bad type name', 'export default { "has space": () => 1 };', /not a valid name/],
    ['a clash with a built-in', 'export default { echo: () => 1 };', /"echo" is already defined/],
  ])('refuses %s with a clear ConfigError and registers nothing', async (name, source, msg) => {
    const file = source === null ? join(dir, 'missing.mjs') : module(`${name.replace(/\W+/g, '-')}.mjs`, source);
    const r = createAgentRegistry();
    const err = await loadAgentModule(r, file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(msg);
    expect(r.types()).toEqual(['echo', 'sha256', 'sleep', 'wordcount']);
  });
});
