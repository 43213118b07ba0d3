// `tri token create --key-file FILE [--read-only] [--docs PATTERN] [--ttl 24h]`: prints a client
// token for the Yjs endpoint (src/security/client-token.ts). Made offline from the key file:
// every node that holds that key verifies it, with no state shared between nodes.
import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { readKeyFileSync } from '../../security/index.js';
import { createClientToken, parseTtl } from '../../security/client-token.js';

interface CreateFlags {
  keyFile?: string;
  readOnly?: boolean;
  docs: string;
  ttl: string;
  json?: boolean;
}

export function registerToken(program: Command): void {
  const token = program.command('token').description('client tokens for Yjs clients (ws://HOST:HTTP_PORT/yjs/...)');
  token
    .command('create')
    .description('print a token signed with the cluster key; pass it as ?token= or as the subprotocol tri-token.<token>')
    .option('--key-file <file>', 'cluster key file (the key that signs; the token stops working when it is removed)')
    .option('--read-only', "the holder's updates are not applied")
    .option('--docs <pattern>', 'documents it opens: comma-separated globs over ids (agent/*, doc/notes-*)', '*')
    .option('--ttl <duration>', 'lifetime: 90s, 30m, 24h, 7d', '24h')
    .option('--json', 'print one JSON document on stdout')
    .action((flags: CreateFlags) => {
      if (!flags.keyFile) throw new UsageError('--key-file is required: the token is signed with the cluster key');
      let ttlMs: number;
      try {
        ttlMs = parseTtl(flags.ttl);
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
      const now = Date.now();
      const text = createClientToken(readKeyFileSync(flags.keyFile), { readOnly: flags.readOnly, docs: flags.docs, ttlMs, now });
      if (flags.json) process.stdout.write(JSON.stringify({ token: text, readOnly: flags.readOnly === true, docs: flags.docs, expiresAt: new Date(now + ttlMs).toISOString() }) + '\n');
      else process.stdout.write(text + '\n');
    });
}
