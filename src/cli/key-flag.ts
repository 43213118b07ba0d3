// Reads a `--key-file` given on the command line. Any problem with it is bad input (exit 2), and a
// key file that other users can read is refused, as ssh refuses an open private key: whoever reads
// the cluster key can join the cluster and read every agent's memory.
import { statSync } from 'node:fs';
import { ConfigError, UsageError } from '../errors.js';
import { readKeyFileSync } from '../security/key-file.js';

export interface KeyFlagOptions {
  /** `--allow-open-key-file`: warn instead of refusing a group- or world-readable key file. */
  allowOpen?: boolean;
  /** Where the warning goes (stderr by default). */
  warn?: (line: string) => void;
}

/** The 32-byte key in `path`; UsageError (exit 2) when it cannot be read, is not a key, or is readable by others. */
export function readKeyFlag(path: string, opts: KeyFlagOptions = {}): Buffer {
  let key: Buffer;
  try {
    key = readKeyFileSync(path);
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message, { cause: err });
    throw err;
  }
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    const why = `key file ${path} is readable by ${mode & 0o007 ? 'every user of this machine' : 'its group'} (mode ${mode.toString(8).padStart(4, '0')})`;
    if (!opts.allowOpen) throw new UsageError(`${why}: run \`chmod 600 ${path}\` (or pass --allow-open-key-file to use it anyway)`);
    (opts.warn ?? ((l: string) => void process.stderr.write(l + '\n')))(`tri: warning: ${why}; \`chmod 600 ${path}\` fixes it`);
  }
  return key;
}
