// `--data DIR` is checked before a node binds anything: its parent must exist (a typo in the path
// must not silently create a new, empty node elsewhere), and it must be a directory if it exists.
import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UsageError } from '../errors.js';

export function checkDataDirFlag(dir: string): void {
  const abs = resolve(dir);
  const parent = dirname(abs);
  const kind = (p: string) => {
    try {
      return statSync(p).isDirectory() ? 'dir' : 'other';
    } catch {
      return 'missing';
    }
  };
  if (kind(parent) !== 'dir') throw new UsageError(`--data ${dir}: its parent directory ${parent} does not exist; create it first (mkdir -p ${parent}) or fix the path`);
  if (kind(abs) === 'other') throw new UsageError(`--data ${dir} is not a directory; give a directory (it is created if missing)`);
}
