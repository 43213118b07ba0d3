// Bundles the client commands of `tri` (dist/src/cli/tri-client.js and everything it imports,
// commander included) into dist/src/cli/tri-client.bundle.js, which dist/src/cli/tri.js runs for
// those commands. Why: Node 20's module loader spends ~1.5 ms of CPU per module file; the client
// path is ~60 files, and `tri memory show` is a process started per call. Run by `npm run build`
// after tsc; without esbuild (an install without dev dependencies) it says so and tri runs from
// the modules, as before.
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = fileURLToPath(new URL('../dist/src/cli/tri-client.js', import.meta.url));
const outfile = fileURLToPath(new URL('../dist/src/cli/tri-client.bundle.js', import.meta.url));
rmSync(outfile, { force: true });
let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  console.warn('bundle-cli: esbuild is not installed; tri runs its client commands from the modules (slower to start)');
  process.exit(0);
}
await esbuild.build({
  entryPoints: [entry],
  outfile,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // commander is CommonJS: its require() calls of Node's built-ins need a real require in ESM.
  banner: { js: "import { createRequire as __triCreateRequire } from 'node:module'; const require = __triCreateRequire(import.meta.url);" },
  logLevel: 'warning',
  legalComments: 'none',
  metafile: true,
}).then(checkClientOnly);

/** The client path must not pull in the node's own machinery: the build fails if an import brings it back. */
function checkClientOnly(result) {
  const forbidden = [/node_modules\/yjs\//, /node_modules\/better-sqlite3\//, /dist\/gossip\//, /dist\/src\/storage\//, /dist\/src\/node\/cluster-node/];
  const bad = Object.keys(result.metafile.inputs).filter((f) => forbidden.some((re) => re.test(f)));
  if (bad.length > 0) {
    rmSync(outfile, { force: true });
    console.error(`bundle-cli: the client commands import node-side modules, fix the imports:\n  ${bad.join('\n  ')}`);
    process.exit(1);
  }
}
