// A data directory holds the keyring and every agent's memory, so only its owner may read it:
// directory 0700, files 0600 (as serf and Consul write their keyrings), whatever the umask, and
// tightened when a directory written by an earlier version was left open.
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/** Creates `dir` (mode 0700) or tightens an existing one to 0700. */
export function preparePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  chmodSync(dir, PRIVATE_DIR_MODE);
}

/**
 * Creates `file` empty with mode 0600 if missing, and tightens it and its SQLite companions
 * (-wal, -shm, -journal) to 0600. SQLite creates companions with the database file's mode.
 */
export function preparePrivateFile(file: string): void {
  if (!existsSync(file)) closeSync(openSync(file, 'a', PRIVATE_FILE_MODE));
  for (const f of [file, `${file}-wal`, `${file}-shm`, `${file}-journal`]) if (existsSync(f)) chmodSync(f, PRIVATE_FILE_MODE);
}
