// `tri memory show` and the other client commands run from one bundled file (src/cli/tri.ts,
// scripts/bundle-cli.mjs): the bundle must be the same program as the modules, hold none of the
// node's machinery, and give way to the modules when a later compile made it stale.
import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, type Option } from 'commander';
import { describe, expect, it } from 'vitest';
import { CLIENT_COMMANDS, runsFromBundle } from '../../src/cli/client-command-names.js';
import { registerClientCommand } from '../../src/cli/commands/client-set.js';
import { COMMAND_NAMES, registerCommands } from '../../src/cli/commands/index.js';
import { REPO_ROOT, TRI, assertBuilt, runTri } from '../integration/lib/run-tri.js';

/** A command tree as plain data: names, aliases, options (flags, required, defaults), recursively. */
interface Shape {
  name: string;
  aliases: string[];
  options: Array<{ flags: string; mandatory: boolean; defaultValue: unknown }>;
  commands: Shape[];
}
function shapeOf(c: Command): Shape {
  return {
    name: c.name(),
    aliases: c.aliases(),
    options: c.options.map((o: Option) => ({ flags: o.flags, mandatory: o.mandatory, defaultValue: o.defaultValue as unknown })),
    commands: c.commands.map(shapeOf),
  };
}

describe('client commands in one bundle', () => {
  it('registers each client command exactly as the lazy command table does', async () => {
    for (const name of CLIENT_COMMANDS) {
      expect(COMMAND_NAMES).toContain(name);
      const viaTable = new Command('tri');
      await registerCommands(viaTable, [name]);
      const viaBundle = new Command('tri');
      await registerClientCommand(viaBundle, [name]);
      expect(shapeOf(viaBundle), name).toEqual(shapeOf(viaTable));
      expect(viaBundle.commands.map((c) => c.name())).toEqual([name]);
    }
  });

  it('refuses a command that is not a client command', async () => {
    for (const name of ['node', 'cluster', 'fuzz', '']) {
      await expect(registerClientCommand(new Command('tri'), [name])).rejects.toThrow(/not a client command/);
    }
  });

  it('uses the bundle only for client commands and only when it is not older than the modules', () => {
    expect(runsFromBundle('memory', 2000, 1000)).toBe(true);
    expect(runsFromBundle('memory', 1000, 1000)).toBe(true);
    expect(runsFromBundle('memory', 999, 1000)).toBe(false); // stale: tsc ran after the bundling
    expect(runsFromBundle('memory', undefined, 1000)).toBe(false); // no bundle (built without esbuild)
    expect(runsFromBundle('node', 2000, 1000)).toBe(false);
    expect(runsFromBundle('--help', 2000, 1000)).toBe(false);
    expect(runsFromBundle('', 2000, 1000)).toBe(false);
  });

  it('the built bundle holds commander and the client, not Yjs, SQLite or gossip, and prints the same help as the modules', async () => {
    const bundle = resolve(REPO_ROOT, 'dist/src/cli/tri-client.bundle.js');
    const modules = resolve(REPO_ROOT, 'dist/src/cli/tri-client.js');
    let fresh = false;
    try {
      fresh = statSync(bundle).mtimeMs >= statSync(modules).mtimeMs;
    } catch {
      fresh = false;
    }
    if (!fresh) {
      console.warn(`SKIPPING the built-bundle checks: ${bundle} is missing or older than the modules (run "npm run build", which bundles with esbuild)`);
      return;
    }
    const text = readFileSync(bundle, 'utf8');
    expect(text).toContain('// node_modules/commander/');
    expect(text).toContain('// dist/src/client/node-client.js');
    for (const absent of ['// node_modules/yjs/', 'better-sqlite3', '// dist/gossip/', '// dist/src/storage/']) expect(text).not.toContain(absent);
    for (const args of [['memory', 'show', '--help'], ['task', 'list', '--help'], ['status', '--help'], ['nodes', '--help']]) {
      const viaBundle = await runTri(args);
      const viaModules = await runTri(args, { script: resolve(REPO_ROOT, 'dist/src/cli/tri-full.js') });
      expect(viaBundle.code, args.join(' ')).toBe(0);
      expect(viaBundle.stdout, args.join(' ')).toBe(viaModules.stdout);
      expect(viaBundle.stdout.length).toBeGreaterThan(100);
    }
    // A usage error keeps its exit code and message through the bundle.
    const bad = await runTri(['memory', 'show', '--agent']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/argument missing|--agent/);
  }, 120_000);

  it('stops quietly when the reader of its output goes away (tri ... | head), through the bundle and the modules', async () => {
    assertBuilt();
    for (const script of [TRI, resolve(REPO_ROOT, 'dist/src/cli/tri-full.js')]) {
      const child = spawn(process.execPath, [script, 'memory', 'show', '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.destroy(); // closed before the process has even started: its first write gets EPIPE
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
      expect(stderr, script).not.toMatch(/EPIPE|Unhandled/);
      expect(code, script).toBe(0);
    }
  }, 60_000);
});
