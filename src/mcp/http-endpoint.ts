// `tri mcp --http PORT`: MCP over Streamable HTTP at /mcp, stateless (each request gets a fresh
// server and transport; all state is in the cluster), behind a bearer token. It binds loopback
// unless told otherwise, bounds request bodies, and answers a missing or wrong token with 401.
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';

const MAX_BODY = 4 * 1024 * 1024;

export interface McpHttpOptions {
  host: string;
  port: number;
  token: string;
  server: () => McpServer;
  onError?: (err: Error) => void;
}

function authorized(req: IncomingMessage, token: string): boolean {
  const h = req.headers.authorization ?? '';
  const m = /^Bearer (.+)$/.exec(h);
  if (!m) return false;
  const given = Buffer.from(m[1]!);
  const want = Buffer.from(token);
  return given.length === want.length && timingSafeEqual(given, want);
}

function reply(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }));
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw Object.assign(new Error(`request body over ${MAX_BODY} bytes`), { status: 413 });
    chunks.push(chunk);
  }
  if (size === 0) return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw Object.assign(new Error('request body is not JSON'), { status: 400 });
  }
}

/** Starts listening; resolves with the server and the address it bound. */
export async function startMcpHttp(o: McpHttpOptions): Promise<{ server: Server; address: string }> {
  const http = createServer((req, res) => {
    void (async () => {
      const path = (req.url ?? '/').split('?')[0];
      if (path !== '/mcp') return reply(res, 404, 'not found: the MCP endpoint is /mcp');
      if (!authorized(req, o.token)) {
        res.setHeader('www-authenticate', 'Bearer');
        return reply(res, 401, 'missing or wrong bearer token: send "Authorization: Bearer <token>" with the token tri mcp printed or was given');
      }
      if (req.method !== 'POST') return reply(res, 405, 'this endpoint is stateless: only POST');
      let body: unknown;
      try {
        body = await readBody(req);
      } catch (err) {
        // The rest of an oversize body is not read: answer, then drop the connection so it cannot be reused mid-upload.
        res.setHeader('connection', 'close');
        res.once('finish', () => req.destroy());
        return reply(res, (err as { status?: number }).status ?? 400, (err as Error).message);
      }
      const server = o.server();
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
      res.on('close', () => {
        void transport.close();
        void server.close();
      });
      await server.connect(transport);
      await transport.handleRequest(req, res, body);
    })().catch((err: Error) => {
      o.onError?.(err);
      if (!res.headersSent) reply(res, 500, err.message);
      else res.end();
    });
  });
  http.requestTimeout = 120_000;
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(o.port, o.host, () => resolve());
  });
  const a = http.address();
  const address = typeof a === 'object' && a ? `${a.address.includes(':') ? `[${a.address}]` : a.address}:${a.port}` : String(a);
  return { server: http, address };
}
