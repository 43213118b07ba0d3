// `tri mcp`: serve the cluster's memory, knowledge graph and tasks to MCP hosts, over stdio (the
// way hosts launch servers) or Streamable HTTP with a bearer token. Everything it prints besides
// the protocol goes to stderr: on stdio, stdout is the protocol.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { NodeClient } from '../../client/node-client.js';
import { ConfigError, UsageError } from '../../errors.js';
import { startMcpHttp } from '../../mcp/http-endpoint.js';
import { createMcpServer } from '../../mcp/server.js';
import { readKeyFileSync } from '../../security/index.js';
import { addClientOptions, readTlsFlags, type ClientFlags } from '../client.js';
import { parsePort } from '../parse.js';

const VERSION = '0.1.0';

type McpFlags = ClientFlags & { http?: number; httpHost: string; tokenFile?: string };

export function registerMcp(program: Command): void {
  addClientOptions(
    program
      .command('mcp')
      .description('an MCP server (stdio by default) in front of the node --at: tools remember, recall, annotate, list_agents, the knowledge-graph tools of the reference memory server, submit_task, task_status, cluster_status')
      .option('--http <port>', 'serve Streamable HTTP at http://HOST:PORT/mcp instead of stdio (bearer token required)', parsePort)
      .option('--http-host <host>', 'address to bind with --http', '127.0.0.1')
      .option('--token-file <file>', 'bearer token for --http (default: a new random token, printed on stderr); env TRI_MCP_TOKEN also works'),
  ).action(async (f: McpFlags) => {
    if (f.keyFile && f.insecure) throw new UsageError('give either --key-file or --insecure, not both');
    const tls = readTlsFlags(f);
    if (!f.keyFile && !f.insecure && !tls) throw new UsageError('no cluster key: pass --key-file FILE (the key the cluster was started with), or --insecure for a cluster started with --insecure');
    const key = f.keyFile ? readKeyFileSync(f.keyFile).toString('base64') : undefined;
    let client: Promise<NodeClient> | undefined;
    const getClient = () => (client ??= NodeClient.connect({ at: f.at, key, tls, insecure: f.insecure, timeoutMs: f.timeout }));
    const make = () => createMcpServer(f.at, getClient, VERSION);
    try {
      if (f.http === undefined) {
        const transport = new StdioServerTransport();
        // The SDK ends a stdio session whose message exceeds its 10 MiB buffer (memory stays bounded); say so.
        transport.onerror = (err) => process.stderr.write(`tri mcp: ${err.message}\n`);
        const closed = new Promise<void>((resolve) => {
          transport.onclose = resolve;
          process.stdin.once('end', resolve);
        });
        await make().connect(transport);
        process.stderr.write(`tri mcp: serving node ${f.at} over stdio\n`);
        await closed;
        return;
      }
      const token = readToken(f.tokenFile);
      const { server, address } = await startMcpHttp({ host: f.httpHost, port: f.http, token: token.value, server: make, onError: (err) => process.stderr.write(`tri mcp: ${err.message}\n`) });
      process.stderr.write(`tri mcp: serving node ${f.at} at http://${address}/mcp\n`);
      if (token.generated) process.stderr.write(`tri mcp: bearer token ${token.value}\n`);
      await new Promise<void>((resolve) => {
        process.once('SIGTERM', resolve);
        process.once('SIGINT', resolve);
      });
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    } finally {
      if (client) await (await client).close().catch(() => undefined);
    }
  });
}

function readToken(file: string | undefined): { value: string; generated: boolean } {
  if (file) {
    let t: string;
    try {
      t = readFileSync(file, 'utf8').trim();
    } catch (err) {
      throw new ConfigError(`cannot read ${file}: ${(err as Error).message}`, { cause: err });
    }
    if (t.length < 16) throw new ConfigError(`the token in ${file} is shorter than 16 characters; use a long random one (e.g. openssl rand -hex 32)`);
    return { value: t, generated: false };
  }
  const env = process.env.TRI_MCP_TOKEN;
  if (env !== undefined && env.length >= 16) return { value: env, generated: false };
  return { value: randomBytes(32).toString('hex'), generated: true };
}
