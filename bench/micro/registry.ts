// Finds the micro-benchmark suites: every module in suites/ that exports `suite`. Listing the
// folder (rather than a hand-kept list) makes a new subsystem's benchmarks one file and nothing
// else; they run in file-name order.
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { MicroSuite } from './suite.js';

const SUITES_DIR = join(dirname(fileURLToPath(import.meta.url)), 'suites');

/** Suite module files: compiled .js in dist/, .ts when run from source (vitest). */
export function suiteFiles(dir = SUITES_DIR): string[] {
  return readdirSync(dir)
    .filter((f) => /\.(js|ts)$/.test(f) && !f.endsWith('.d.ts') && !f.includes('.test.'))
    .sort();
}

export async function loadSuites(dir = SUITES_DIR): Promise<MicroSuite[]> {
  const suites: MicroSuite[] = [];
  for (const f of suiteFiles(dir)) {
    const mod = (await import(pathToFileURL(join(dir, f)).href)) as { suite?: MicroSuite };
    if (!mod.suite || typeof mod.suite.build !== 'function') throw new Error(`${join(dir, f)} exports no \`suite\` (a MicroSuite)`);
    suites.push(mod.suite);
  }
  const seen = new Set<string>();
  for (const s of suites) {
    if (seen.has(s.name)) throw new Error(`two micro-benchmark suites are named "${s.name}"`);
    seen.add(s.name);
  }
  return suites;
}
