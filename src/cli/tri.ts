#!/usr/bin/env node
// The `tri` command line's entry. A client command (client-command-names.ts) runs from the one-file
// bundle the build makes (dist/src/cli/tri-client.bundle.js), when it is there and not older than
// the compiled modules; everything else, and every command of a build without the bundle, runs
// from the modules (tri-full.ts). Both give the same program: the bundle is only faster to load.
import { statSync } from 'node:fs';
import module from 'node:module';
import { runsFromBundle } from './client-command-names.js';

// Node 22.1 and later keep V8's compiled code between runs (a no-op on older Node, which lacks it).
(module as { enableCompileCache?: () => unknown }).enableCompileCache?.();

function mtimeMs(url: URL): number | undefined {
  try {
    return statSync(url).mtimeMs;
  } catch {
    return undefined;
  }
}

const bundle = new URL('./tri-client.bundle.js', import.meta.url);
if (runsFromBundle(process.argv[2] ?? '', mtimeMs(bundle), mtimeMs(new URL('./tri-client.js', import.meta.url)))) {
  await import(bundle.href);
} else {
  await import('./tri-full.js');
}
