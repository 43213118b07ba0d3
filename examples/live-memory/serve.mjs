// Serves the live-memory page and, for the browser, the stock Yjs packages from this
// repository's node_modules (yjs, y-websocket, y-protocols, lib0) as plain ES modules: no
// bundler. The page itself then talks to a node's WebSocket endpoint directly.
//
//   node examples/live-memory/serve.mjs [--port 8080] [--host 127.0.0.1]
//   open http://127.0.0.1:8080/?node=127.0.10.1:10080&agent=researcher&token=TOKEN
import { createServer } from 'node:http';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const MODULES = resolve(HERE, '../../node_modules');
const PACKAGES = new Set(['yjs', 'y-websocket', 'y-protocols', 'lib0']);
const CONDITIONS = ['browser', 'module', 'import', 'default'];

/** The file a package export names for a browser (first matching condition, nested). */
function pick(target) {
  if (typeof target === 'string') return target;
  if (!target || typeof target !== 'object') return undefined;
  for (const c of CONDITIONS) if (c in target) {
    const found = pick(target[c]);
    if (found) return found;
  }
  return undefined;
}

/** /m/<package>/<subpath> -> a file inside node_modules, or undefined. */
function moduleFile(path) {
  const [pkg, ...rest] = path.split('/');
  if (!PACKAGES.has(pkg)) return undefined;
  const root = join(MODULES, pkg);
  const sub = rest.join('/');
  const exportsMap = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).exports ?? {};
  const named = pick(exportsMap[sub ? `./${sub}` : '.']);
  const file = normalize(join(root, named ?? sub));
  if (!file.startsWith(root + '/') || !existsSync(file) || !statSync(file).isFile()) return undefined;
  return file;
}

export function serve({ port = 8080, host = '127.0.0.1' } = {}) {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    let file;
    if (path === '/' || path === '/index.html') file = join(HERE, 'index.html');
    else if (path === '/app.js') file = join(HERE, 'app.js');
    else if (path.startsWith('/m/')) file = moduleFile(path.slice(3));
    if (!file) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    const type = file.endsWith('.html') ? 'text/html; charset=utf-8' : 'text/javascript; charset=utf-8';
    res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' }).end(readFileSync(file));
  });
  return new Promise((ok) => server.listen(port, host, () => ok(server)));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const arg = (name, fallback) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : fallback;
  };
  const host = arg('--host', '127.0.0.1');
  const port = Number(arg('--port', '8080'));
  await serve({ port, host });
  console.log(`live-memory page on http://${host}:${port}/?node=HOST:HTTP_PORT&agent=AGENT&token=TOKEN`);
}
