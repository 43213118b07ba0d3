// `tri keys generate` prints a new cluster key; `tri keys list|install|use|remove KEY --at HOST`
// rotates the keyring of a running cluster (install -> use -> remove), reaching every member.
// The node at --at applies each change to itself and to every live member (src/node/keyring-rpc.ts)
// and answers per member; the command prints that and exits 1 if any member failed.
import { randomBytes } from 'node:crypto';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { TriError, UsageError } from '../../errors.js';
import { parseKey, readKeyFileSync } from '../../security/index.js';
import type { KeyOp, KeyOpReply } from '../../node/keyring-rpc.js';
import { addClientOptions, withClient, type ClientFlags } from '../client.js';
import { printTable } from '../table.js';

const ROTATION_STEPS = `
Rotating the cluster key with no downtime (each step reaches every live member; run the next
one only once the previous one reported every member ok):
  1. tri keys generate --out new.key
  2. tri keys install new.key --at HOST --key-file old.key   every member accepts the new key
  3. tri keys use new.key     --at HOST --key-file old.key   every member seals with the new key
     (refused while any live member lacks it)
  4. point --key-file of your nodes, scripts and CLI at new.key
  5. tri keys remove old.key  --at HOST --key-file new.key   the old key stops working
     (refused while any live member still uses it; the primary key can never be removed)
A node that was down during the rotation keeps only the old key and stays out of the cluster:
restart it with --key-file new.key and a fresh --data directory, or install the new key before step 5.
KEY is a key file (preferred: keeps the key out of shell history and ps) or the base64 key itself.
Keys are shown by fingerprint, never in full.`;

type Flags = ClientFlags & { json?: boolean; force?: boolean };

/** A key argument: a file holding a key, or the base64 key itself. */
export function readKeyArgument(arg: string): string {
  if (existsSync(arg) && statSync(arg).isFile()) return readKeyFileSync(arg).toString('base64');
  try {
    return parseKey(arg).toString('base64');
  } catch (err) {
    throw new UsageError(`"${arg.length > 12 ? arg.slice(0, 8) + '...' : arg}" is neither a key file nor a base64 32-byte key: make one with \`tri keys generate --out new.key\``, { cause: err });
  }
}

function print(reply: KeyOpReply, json: boolean | undefined): void {
  if (json) {
    process.stdout.write(JSON.stringify(reply) + '\n');
  } else {
    if (reply.keyId) process.stdout.write(`${reply.op} key ${reply.keyId}\n`);
    printTable(
      ['NODE', 'RESULT', 'PRIMARY', 'INSTALLED'],
      reply.results.map((r) => [
        r.node,
        r.ok ? (r.changed === false ? 'ok (no change)' : 'ok') : `FAILED: ${r.error ?? 'unknown error'}`,
        r.keys?.primary ?? '-',
        r.keys?.installed.join(',') ?? '-',
      ]),
    );
    if (reply.keys) {
      process.stdout.write('\n');
      printTable(
        ['KEY', 'INSTALLED ON', 'PRIMARY ON'],
        reply.keys.map((k) => [k.keyId, `${k.installed}/${reply.members ?? reply.results.length}`, `${k.primary}/${reply.members ?? reply.results.length}`]),
      );
    }
  }
  if (reply.failed > 0) {
    throw new TriError(`${reply.failed} member(s) failed (see above): fix or restart them and run the same command again (it is idempotent)`);
  }
}

export function registerKeys(program: Command): void {
  const keys = program
    .command('keys')
    .description('cluster keys: generate one, or rotate the keyring of a running cluster (install -> use -> remove)')
    .addHelpText('after', ROTATION_STEPS);
  keys
    .command('generate')
    .description('make a new base64 32-byte cluster key: --out FILE writes it readable by you only (mode 0600); without it, it is printed on stdout')
    .option('--out <file>', 'write the key to this new file, mode 0600 (refuses to overwrite one)')
    .action((f: { out?: string }) => {
      const key = randomBytes(32).toString('base64') + '\n';
      if (f.out === undefined) return void process.stdout.write(key);
      try {
        // wx: never overwrite a key (a cluster's only copy may be in it); mode 0600 whatever the umask.
        writeFileSync(f.out, key, { mode: 0o600, flag: 'wx' });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        throw new UsageError(code === 'EEXIST' ? `${f.out} already exists; a key is never overwritten: remove it first or choose another name` : `cannot write ${f.out}: ${(err as Error).message}`);
      }
    });

  const list = keys.command('list').description("every live member's keys, by fingerprint").option('--json', 'print one JSON document on stdout');
  addClientOptions(list).action(async (flags: Flags) => {
    print(await withClient(flags, (c) => c.listKeys()), flags.json);
  });

  const ops: Array<[KeyOp, string]> = [
    ['install', 'step 1: install KEY on every live member (accepted on receipt, not used to send yet)'],
    ['use', 'step 2: make KEY the primary on every live member (refused unless every member has it installed)'],
    ['remove', 'step 3: remove KEY from every live member (refused while any member uses it as primary)'],
  ];
  for (const [op, description] of ops) {
    const cmd = keys
      .command(op)
      .description(description)
      .argument('<KEY>', 'key file, or the base64 key')
      .option('--json', 'print one JSON document on stdout');
    if (op !== 'install') cmd.option('--force', 'skip the cluster-wide ordering check (a member that is gone for good)');
    addClientOptions(cmd).addHelpText('after', ROTATION_STEPS);
    cmd.action(async (keyArg: string, flags: Flags) => {
      const key = readKeyArgument(keyArg);
      print(await withClient(flags, (c) => c.changeKeys(op, key, flags.force === true)), flags.json);
    });
  }
}
