// Reads `--key-file FILE`: one base64 key, surrounding whitespace ignored. Every failure is a
// ConfigError naming the file and saying what to do.
import { readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import { parseKey } from './keyring.js';

function explainRead(path: string, err: unknown): ConfigError {
  const code = (err as NodeJS.ErrnoException).code;
  const why =
    code === 'ENOENT'
      ? 'it does not exist: create it with `tri keys generate --out ' + path + '`'
      : code === 'EACCES'
        ? 'permission denied: make it readable by this user (and by no one else: chmod 600)'
        : code === 'EISDIR'
          ? 'it is a directory: give the path of the key file itself'
          : `${(err as Error).message}`;
  return new ConfigError(`cannot read key file ${path}: ${why}`, { cause: err });
}

function decode(path: string, text: string): Buffer {
  try {
    return parseKey(text);
  } catch (err) {
    throw new ConfigError(`key file ${path} does not hold a valid key: ${(err as Error).message}`, { cause: err });
  }
}

/** Reads and decodes a key file (32 raw bytes). */
export async function readKeyFile(path: string): Promise<Buffer> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw explainRead(path, err);
  }
  return decode(path, text);
}

/** Synchronous variant for CLI start-up paths. */
export function readKeyFileSync(path: string): Buffer {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw explainRead(path, err);
  }
  return decode(path, text);
}
