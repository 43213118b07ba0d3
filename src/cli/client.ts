// The flags every client command shares (--at, --key-file, --insecure, TLS certificates) and
// the open-call-close wrapper around NodeClient.
import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { NodeClient } from '../client/node-client.js';
import { ConfigError, TransportError, UsageError } from '../errors.js';
import { readKeyFlag } from './key-flag.js';
import { parseHostPort, parseIntIn } from './parse.js';

export interface ClientFlags {
  at: string;
  keyFile?: string;
  allowOpenKeyFile?: boolean;
  insecure?: boolean;
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
  timeout?: number;
}

export const DEFAULT_RPC_PORT = 10000;

export function addClientOptions(cmd: Command): Command {
  return cmd
    .requiredOption('--at <host[:rpc-port]>', `the node to ask (RPC port ${DEFAULT_RPC_PORT} by default)`, parseHostPort(DEFAULT_RPC_PORT))
    .option('--key-file <file>', 'cluster key file, readable by its owner only (tri keys generate --out cluster.key)')
    .option('--allow-open-key-file', 'use a --key-file that other users can read (warns instead of refusing)')
    .option('--insecure', 'talk plaintext to a node started with --insecure')
    .addOption(new Option('--tls-cert <file>', 'client certificate (PEM) for a mutual-TLS cluster').hideHelp(false))
    .option('--tls-key <file>', 'client certificate key (PEM)')
    .option('--tls-ca <file>', 'CA certificate (PEM) that signed the node certificates')
    .option('--timeout <ms>', 'how long to wait for the node', parseIntIn(1, 600_000), 10_000);
}

export function readTlsFlags(f: { tlsCert?: string; tlsKey?: string; tlsCa?: string }): { cert: string; key: string; ca: string } | undefined {
  const given = [f.tlsCert, f.tlsKey, f.tlsCa].filter((x) => x !== undefined).length;
  if (given === 0) return undefined;
  if (given !== 3) throw new UsageError('mutual TLS needs all three of --tls-cert, --tls-key and --tls-ca');
  const read = (p: string) => {
    try {
      return readFileSync(p, 'utf8');
    } catch (err) {
      throw new ConfigError(`cannot read ${p}: ${(err as Error).message}`, { cause: err });
    }
  };
  return { cert: read(f.tlsCert!), key: read(f.tlsKey!), ca: read(f.tlsCa!) };
}

/** Connects to any node (HOST:RPC_PORT) with the credentials the flags name; checks them once, up front. */
export function clientConnector(flags: ClientFlags, timeoutMs = flags.timeout): (at: string) => Promise<NodeClient> {
  if (flags.keyFile && flags.insecure) throw new UsageError('give either --key-file or --insecure, not both');
  const tls = readTlsFlags(flags);
  if (!flags.keyFile && !flags.insecure && !tls) {
    throw new UsageError('no cluster key: pass --key-file FILE (the key the cluster was started with, made by `tri keys generate`), or --insecure for a cluster started with --insecure');
  }
  const key = flags.keyFile ? readKeyFlag(flags.keyFile, { allowOpen: flags.allowOpenKeyFile }).toString('base64') : undefined;
  return (at) => NodeClient.connect({ at, key, tls, insecure: flags.insecure, timeoutMs });
}

export async function withClient<T>(flags: ClientFlags, fn: (c: NodeClient) => Promise<T>): Promise<T> {
  const client = await clientConnector(flags)(flags.at);
  try {
    return await fn(client);
  } catch (err) {
    if (err instanceof TransportError) {
      throw new TransportError(`cannot reach the node at ${flags.at}: ${err.message}. Is it running, and is that its RPC port (default ${DEFAULT_RPC_PORT})?`, { cause: err });
    }
    throw err;
  } finally {
    await client.close();
  }
}
