// Every program in examples/ runs as a user would run it (after the build), and prints what its
// comments promise.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

describe('examples', () => {
  it('embed-memory.mjs: three embedded nodes merge concurrent notes and counters', async () => {
    const { stdout } = await run(process.execPath, ['examples/embed-memory.mjs'], { timeout: 60_000 });
    expect(stdout).toContain('members: node-1=ACTIVE node-2=ACTIVE node-3=ACTIVE');
    // Both concurrent appends survive (in either order) and the two +1s sum to 2.
    expect(stdout).toMatch(/notes: "draft( \+hotel \+train| \+train \+hotel)" revisions: 2 tags: travel/);
    expect(stdout).toContain('stopped');
  });

  it('custom-agent.mjs: module agents and defineAgent run tasks and record episodes', async () => {
    const { stdout } = await run(process.execPath, ['examples/custom-agent.mjs'], { timeout: 60_000 });
    expect(stdout).toMatch(/reverse: done on worker-\d -> \{"reversed":"ytinirt"\}/);
    expect(stdout).toMatch(/summarize: done on worker-\d -> \{"summary":"This is the longest sentence here\.","sentences":3/);
    expect(stdout).toContain('shout: done on worker-1 -> {"loud":"HELLO"}');
    expect(stdout).toContain('episode recorded for agent "reverse": done');
  });

  it('mcp-agent.mjs: the SDK client drives tri mcp on two nodes; recall and graph merges across them', async () => {
    const { stdout } = await run(process.execPath, ['examples/mcp-agent.mjs'], { timeout: 90_000 });
    expect(stdout).toMatch(/^tools: remember recall annotate list_agents .*search_nodes open_nodes$/m);
    expect(stdout).toContain('recall via 127.0.19.42: "book a train to Lyon" (window seat, 08:12 departure)');
    expect(stdout).toContain('Lyon: arrive 10:05 | museum on Tuesday | trip destination');
    expect(stdout).toContain('stopped');
  });
});
