// The node's HTTP face (DESIGN.md "Command line"): /status as JSON for scripts and tests, plus
// whatever further routes other components register (/metrics, the dashboard). Read-only: it
// exposes no write operation, so it needs no authentication beyond binding where the operator says.
import http from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../runtime/types.js';

export interface RouteResult {
  status?: number;
  type: string;
  body: string;
  headers?: Record<string, string>;
}
export type Route = (req: http.IncomingMessage) => Promise<RouteResult> | RouteResult;

export class NodeHttpServer {
  private readonly server: http.Server;
  private readonly routes = new Map<string, Route>();

  constructor(private readonly log: Logger) {
    this.server = http.createServer((req, res) => void this.serve(req, res));
    // Slow or idle clients must not pin sockets forever.
    this.server.requestTimeout = 10_000;
    this.server.headersTimeout = 5_000;
    this.server.keepAliveTimeout = 5_000;
  }

  /** WebSocket upgrades (the Yjs endpoint); a handler returns false for paths it does not serve. */
  onUpgrade(handler: (req: http.IncomingMessage, socket: Duplex, head: Buffer) => boolean): void {
    this.server.on('upgrade', (req, socket, head) => {
      if (!handler(req, socket, head)) socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    });
  }

  route(path: string, handler: Route): void {
    this.routes.set(path, handler);
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        const addr = this.server.address();
        resolve(typeof addr === 'object' && addr ? addr.port : port);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async serve(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    const route = this.routes.get(path);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { 'content-type': 'text/plain' }).end('only GET is served here\n');
      return;
    }
    if (!route) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`no page at ${path}; try /status, /metrics or /\n`);
      return;
    }
    try {
      const out = await route(req);
      res.writeHead(out.status ?? 200, { 'content-type': out.type, 'cache-control': 'no-store', ...out.headers }).end(req.method === 'HEAD' ? undefined : out.body);
    } catch (err) {
      this.log.warn({ path, err: (err as Error).message }, 'http route failed');
      res.writeHead(500, { 'content-type': 'text/plain' }).end('internal error\n');
    }
  }
}
