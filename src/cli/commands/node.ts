// `tri node start ...`: this process becomes the node (no wrapper that forks a child), so a
// signal sent to it reaches the node. SIGTERM/SIGINT leave gracefully (LEAVING, then LEFT);
// SIGKILL is a crash. Logs are JSON lines on stdout.
import type { Command } from 'commander';
import { ROLES, type Role } from '../../node/meta.js';
import type { ProfileName } from '../../../gossip/config.js';
import { startNode } from '../../node/start-node.js';
import { warnBeforeLeaving } from '../../node/leave-warning.js';
import { createLogger, type LogFormat, type LogLevel } from '../../node/logger.js';
import { readKeyFlag } from '../key-flag.js';
import { checkDataDirFlag } from '../data-dir-flag.js';
import { UsageError } from '../../errors.js';
import { collect, NODE_NAME_ALPHABET, parseChoice, parseHostPort, parseIntIn, parseNodeName, parsePort, parseReplicationFactor } from '../parse.js';
import { DEFAULT_REPLICATION_FACTOR, MAX_REPLICATION_FACTOR } from '../../placement/replication-factor.js';
import { readTlsFlags } from '../client.js';
import { parseBytes, parseDuration } from '../paging-flags.js';
import { heapFlagsForBudget } from '../../node/heap-flags.js';

interface StartFlags {
  name: string;
  bind: string;
  port: number;
  rpcPort: number;
  httpPort: number;
  httpBind?: string;
  join?: string[];
  discover?: boolean;
  role: Role;
  slots: number;
  data?: string;
  keyFile?: string;
  allowOpenKeyFile?: boolean;
  insecure?: boolean;
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
  profile: ProfileName;
  agents?: string;
  logLevel: LogLevel;
  logFormat: LogFormat;
  docSizeLimit: number;
  taskRetention: number;
  memoryBudget: number;
  taskRetentionCount: number;
  replicationFactor: number;
}

export function registerNode(program: Command): void {
  const node = program.command('node').description('run a node');
  node
    .command('start')
    .description('start a node in this process; SIGTERM leaves the cluster gracefully')
    .requiredOption('--name <name>', `unique node name (${NODE_NAME_ALPHABET})`, parseNodeName)
    .option('--bind <address>', 'address for gossip, RPC and HTTP', '127.0.0.1')
    .option('--port <port>', 'gossip port (UDP, and TCP push-pull)', parsePort, 9999)
    .option('--rpc-port <port>', 'RPC port (TCP) for streams and client tools', parsePort, 10000)
    .option('--http-port <port>', 'HTTP port for /status, /health, /metrics and the dashboard (0 = off)', parsePort, 10080)
    .option('--http-bind <address>', 'address for HTTP (default: --bind; warns when that is not loopback, as HTTP needs no key)')
    .option('--join <host:port>', 'seed node gossip address; repeat for more', (v: string, prev: string[] | undefined) => collect(parseHostPort(9999)(v), prev))
    .option('--discover', 'find seeds by UDP broadcast on port 9999 (LAN)')
    .option('--role <role>', `${ROLES.join(' | ')}`, parseChoice(ROLES), 'hybrid')
    .option('--slots <n>', 'agent slots on this node', parseIntIn(0, 4096), 16)
    .option('--data <dir>', 'data directory (durable memory, identity, keyring); memory only without it')
    .option('--key-file <file>', 'cluster key file, readable by its owner only (tri keys generate --out cluster.key)')
    .option('--allow-open-key-file', 'use a --key-file that other users can read (warns instead of refusing)')
    .option('--insecure', 'plaintext, unauthenticated cluster (test clusters only)')
    .option('--tls-cert <file>', 'node certificate (PEM) for mutual TLS on streams')
    .option('--tls-key <file>', 'node certificate key (PEM)')
    .option('--tls-ca <file>', 'CA certificate (PEM) for mutual TLS')
    .option('--profile <profile>', 'gossip timing: lan | local | wan', parseChoice(['lan', 'local', 'wan'] as const), 'lan')
    .option('--agents <module>', 'JavaScript module exporting agent handlers')
    .option('--doc-size-limit <bytes>', 'largest document Yjs clients may grow (/yjs/doc/, /yjs/agent/)', parseIntIn(1024, 2 ** 31), 32 * 1024 * 1024)
    .option('--memory-budget <size>', 'memory the agent documents may take before idle ones are unloaded to disk (64MB, 256MB, 1GB)', parseBytes, 256 * 1024 * 1024)
    .option('--task-retention <duration>', 'finished tasks leave the task table this long after they finished (90s, 15m, 1h, 2d)', parseDuration, 3_600_000)
    .option('--task-retention-count <n>', 'at most this many finished tasks stay in the table (the newest)', parseIntIn(1, 100_000_000), 10_000)
    .option(
      '--replication-factor <n>',
      `voters that will hold each agent's memory, for a cluster this node founds (odd, 1-${MAX_REPLICATION_FACTOR}; a joining node takes the cluster's). Placement is computed and shown (tri memory placement); every voter still holds every agent for now`,
      parseReplicationFactor,
      DEFAULT_REPLICATION_FACTOR,
    )
    .option('--log-level <level>', 'debug | info | warn | error', parseChoice(['debug', 'info', 'warn', 'error'] as const), 'info')
    .option('--log-format <format>', 'json (one JSON object a line) | text (for people)', parseChoice(['json', 'text'] as const), 'json')
    .action(async (flags: StartFlags) => {
      if (flags.keyFile && flags.insecure) throw new UsageError('give either --key-file or --insecure, not both');
      // Neither is bad usage too (exit 2), caught before anything binds.
      if (!flags.keyFile && !flags.insecure) {
        throw new UsageError('no cluster key: make one with `tri keys generate --out cluster.key` and pass --key-file cluster.key (or --insecure for a plaintext test cluster)');
      }
      if (flags.data !== undefined) checkDataDirFlag(flags.data);
      const key = flags.keyFile ? readKeyFlag(flags.keyFile, { allowOpen: flags.allowOpenKeyFile }).toString('base64') : undefined;
      const logger = createLogger({ level: flags.logLevel, name: flags.name, format: flags.logFormat });
      const tls = readTlsFlags(flags);
      const n = await startNode({
        name: flags.name,
        bind: flags.bind,
        port: flags.port,
        rpcPort: flags.rpcPort,
        httpPort: flags.httpPort,
        httpBind: flags.httpBind,
        join: flags.join,
        role: flags.role,
        slots: flags.slots,
        dataDir: flags.data,
        key,
        tls,
        insecure: flags.insecure,
        profile: flags.profile,
        logger,
        discover: flags.discover === true,
        agents: flags.agents,
        docSizeLimit: flags.docSizeLimit,
        retention: { taskRetentionMs: flags.taskRetention, maxFinishedTasks: flags.taskRetentionCount },
        memoryBudgetBytes: flags.memoryBudget,
        replicationFactor: flags.replicationFactor,
      });
      await new Promise<void>((resolve) => {
        let stopping = false;
        const leave = (signal: string) => {
          if (stopping) return;
          stopping = true;
          logger.info({ signal }, 'leaving the cluster');
          warnBeforeLeaving(logger, { self: n.name, voters: n.gate.voterConfig().voters.map((v) => v.name), reachable: n.gate.reachableVoters() });
          n.stop().then(resolve, (err: Error) => {
            logger.error({ err: err.message }, 'graceful stop failed');
            resolve();
          });
        };
        process.on('SIGTERM', () => leave('SIGTERM'));
        process.on('SIGINT', () => leave('SIGINT'));
        // SIGHUP (the terminal closed, or an operator's reload) is a graceful leave too, never a crash.
        process.on('SIGHUP', () => leave('SIGHUP'));
      });
    });
  // V8 sizes its heap only when node starts, so `tri node start` cannot do it for itself (a
  // wrapper that re-executes would break "this process is the node"): this prints the value.
  node
    .command('heap-flags')
    .description('print NODE_OPTIONS for a node with this memory budget: yours plus V8 heap limits derived from it (those you set are kept)')
    .option('--memory-budget <size>', 'the budget the node will be started with', parseBytes, 256 * 1024 * 1024)
    .action((flags: { memoryBudget: number }) => {
      const own = (process.env.NODE_OPTIONS ?? '').trim();
      process.stdout.write(`${[own, ...heapFlagsForBudget(flags.memoryBudget, own)].filter(Boolean).join(' ')}\n`);
    });
}
